//! `nuner embed --model DIR TEXT [--layers all]` — the JSON contract other tools rely on:
//! `tokens`, `offsets` (character `[start, end]` or null for special tokens),
//! `last_hidden_state` (tokens × hidden) and, with `--layers all`, `hidden_states`
//! (layers + 1 × tokens × hidden).

use anyhow::{Context, Result};
use nuner::embed::{block_on, embed_texts, EmbedOptions};
use nuner::tokenize::window::WindowConfig;
use nuner::Pretrained;
use serde_json::json;
use std::io::Read;
use std::path::PathBuf;

use crate::progress::spinner;

/// Print a text's tokens, character offsets and hidden states as one JSON object.
///
/// Examples:
///   nuner embed --model public/model "Barack Obama visited Paris."
///   echo "long text..." | nuner embed --model DIR - --layers all
#[derive(clap::Args)]
pub struct Args {
    /// Model directory (Hugging Face checkpoint or `nuner convert` output).
    #[arg(long)]
    model: PathBuf,
    /// The text; `-` reads standard input.
    text: String,
    /// `last` (default) or `all` (adds `hidden_states`).
    #[arg(long, default_value = "last", value_parser = ["last", "all"])]
    layers: String,
    /// Window length in tokens for long texts (default: the model's limit).
    #[arg(long)]
    window: Option<usize>,
    /// Tokens shared by consecutive windows (default: a quarter of the window).
    #[arg(long)]
    overlap: Option<usize>,
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let device = nuner::device::select_device(device)?;
    let text = if args.text == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading standard input")?;
        s
    } else {
        args.text
    };
    let pb = spinner("loading model");
    let model = Pretrained::from_dir(&args.model, &device)?;
    pb.set_message("embedding");
    let mut options = if args.layers == "all" { EmbedOptions::all(&model) } else { EmbedOptions::last(&model) };
    if args.window.is_some() || args.overlap.is_some() {
        let default = nuner::embed::default_window(&model);
        let capacity = args.window.unwrap_or(default.capacity);
        options.window = Some(WindowConfig::new(capacity, args.overlap.unwrap_or(capacity / 4))?);
    }
    let e = block_on(embed_texts(&model, &[text.as_str()], &options, &device))?.remove(0);
    pb.finish_and_clear();
    let matrix = |slot: usize| -> Vec<&[f32]> { (0..e.tokens.len()).map(|t| e.vector(slot, t)).collect() };
    let last = e.layers.len() - 1;
    let mut out = json!({
        "tokens": e.tokens,
        "offsets": e.offsets.iter().map(|o| o.map(|(s, e)| [s, e])).collect::<Vec<_>>(),
        "last_hidden_state": matrix(last),
    });
    if args.layers == "all" {
        out["hidden_states"] = json!((0..e.layers.len()).map(matrix).collect::<Vec<_>>());
    }
    println!("{out}");
    Ok(())
}
