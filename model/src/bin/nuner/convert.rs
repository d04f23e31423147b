//! `nuner convert HF_DIR OUT_DIR [--f16]`

use anyhow::{Context, Result};
use nuner::pretrained::names;
use nuner::{ModelFiles, Pretrained};
use std::path::{Path, PathBuf};

use crate::progress::spinner;

/// Convert a Hugging Face checkpoint directory into our form: config.json, model.bpk,
/// tokenizer.json.
///
/// Examples:
///   nuner convert ~/models/all-MiniLM-L6-v2 public/model --f16
///   nuner convert public/model tuned/ --tuned nuner.tuned-layers.bpk   (layers fine-tuned in the browser)
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face checkpoint directory (config.json, model.safetensors or pytorch_model.bin,
    /// tokenizer.json), or one made by `nuner convert`.
    hf_dir: PathBuf,
    /// Output directory (created; existing files are replaced only once the new ones are written).
    out_dir: PathBuf,
    /// Store weights as f16: half the download, computed in f32 after loading.
    #[arg(long)]
    f16: bool,
    /// Top layers fine-tuned in the browser ("Export tuned layers") to put on the encoder; the
    /// output is then the encoder the browser's head belongs to.
    #[arg(long)]
    tuned: Option<PathBuf>,
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let device = nuner::device::select_device(device)?;
    let pb = spinner(format!("loading {}", args.hf_dir.display()));
    let files = ModelFiles::from_dir(&args.hf_dir)?;
    let tokenizer = files.tokenizer.clone();
    let mut model = Pretrained::from_files(files, &device)?;
    if let Some(path) = &args.tuned {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let n = nuner::tuned::load_top_layers(&mut model.encoder, bytes, &path.display().to_string())?;
        model.fingerprint = nuner::embed::block_on(nuner::weights::encoder_fingerprint(&model.encoder))?;
        eprintln!("top {n} layers from {} (fingerprint {})", path.display(), model.fingerprint);
    }
    pb.set_message("serialising");
    let outputs = model.to_converted(tokenizer, args.f16)?;
    std::fs::create_dir_all(&args.out_dir).with_context(|| format!("creating {}", args.out_dir.display()))?;
    for (name, bytes) in &outputs {
        write_atomic(&args.out_dir.join(name), bytes)?;
    }
    pb.finish_and_clear();
    let size = outputs.iter().find(|(n, _)| *n == names::BURNPACK).map_or(0, |(_, b)| b.len());
    eprintln!(
        "converted {} ({} layers, hidden {}) -> {} ({}, {:.1} MB weights)",
        args.hf_dir.display(),
        model.config.num_hidden_layers,
        model.config.hidden_size,
        args.out_dir.display(),
        if args.f16 { "f16" } else { "f32" },
        size as f64 / 1e6
    );
    Ok(())
}

/// Writes through a temporary file and a rename, so a failure never leaves a half file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
