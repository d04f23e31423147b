//! `nuner info --model DIR`

use anyhow::Result;
use nuner::Pretrained;
use std::path::PathBuf;

/// Describe a model directory: family, shape, tokenizer, parameter count.
#[derive(clap::Args)]
pub struct Args {
    /// Model directory.
    #[arg(long)]
    model: PathBuf,
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let device = nuner::device::select_device(device)?;
    let model = Pretrained::from_dir(&args.model, &device)?;
    let c = &model.config;
    let tok = &model.tokenizer;
    let json = serde_json::json!({
        "model": model.name,
        "model_type": c.model_type,
        "layers": c.num_hidden_layers,
        "hidden_size": c.hidden_size,
        "heads": c.num_attention_heads,
        "intermediate_size": c.intermediate_size,
        "max_sequence_length": c.max_sequence_length(),
        "vocab_size": c.vocab_size,
        "tokenizer_vocab_size": tok.vocab_size(),
        "special_prefix": tok.prefix().iter().map(|p| &p.1).collect::<Vec<_>>(),
        "special_suffix": tok.suffix().iter().map(|p| &p.1).collect::<Vec<_>>(),
        "parameters": burn::module::Module::num_params(&model.encoder),
        "fingerprint": model.fingerprint,
        "device": format!("{device:?}"),
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}
