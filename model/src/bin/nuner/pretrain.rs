//! `nuner pretrain --config pretrain.toml` and `nuner pool --data DIR --out pool.jsonl`.

use anyhow::{bail, Context, Result};
use nuner::data::write_jsonl;
use nuner::pretrain::pool::build_pool;
use nuner::pretrain::run::run_pretraining;
use nuner::pretrain::{read_data_file, Decay, PretrainConfig, Pretrainer};
use nuner::ModelFiles;
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::progress::{bar, spinner};

/// Pre-train an encoder NuNER's way (token · concept, sigmoid BCE) from a TOML file.
///
/// Runs resume from the newest checkpoint in `out` when there is one (same settings and data
/// required). Example file: model/examples/pretrain.toml.
#[derive(clap::Args)]
pub struct Args {
    /// The run's TOML file; relative paths in it are relative to the file.
    #[arg(long)]
    config: PathBuf,
}

/// The TOML file. Unset hyper-parameters take [`PretrainConfig`]'s defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunFile {
    /// Hugging Face checkpoint both towers start from.
    model: PathBuf,
    /// Annotated files: NuNER CSV, GLiNER JSON, JSON lines of spans, CoNLL.
    data: Vec<PathBuf>,
    /// Output directory.
    out: PathBuf,
    steps: Option<usize>,
    batch_size: Option<usize>,
    max_length: Option<usize>,
    lr: Option<f64>,
    warmup: Option<usize>,
    decay: Option<Decay>,
    frozen_layers: Option<usize>,
    weight_decay: Option<f32>,
    grad_clip_norm: Option<f32>,
    pos_weight: Option<f32>,
    seed: Option<u64>,
    /// Checkpoint every this many steps (default 500).
    checkpoint_every: Option<usize>,
    /// cpu (= flex) or wgpu; default: the global --device.
    device: Option<String>,
    /// Data-parallel over these devices, e.g. ["wgpu:0", "wgpu:1"]: each step's batch is split
    /// between them and the optimiser steps on the first (instead of `device`).
    devices: Option<Vec<String>>,
}

impl RunFile {
    fn config(&self) -> PretrainConfig {
        let mut c = PretrainConfig::new();
        macro_rules! set {
            ($($field:ident => $with:ident),*) => {$(if let Some(v) = self.$field { c = c.$with(v); })*};
        }
        set!(steps => with_steps, batch_size => with_batch_size, max_length => with_max_length, lr => with_learning_rate,
             warmup => with_warmup_steps, decay => with_decay, weight_decay => with_weight_decay,
             grad_clip_norm => with_grad_clip_norm, pos_weight => with_pos_weight, seed => with_seed);
        c.with_frozen_layers(self.frozen_layers)
    }
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let text = std::fs::read_to_string(&args.config).with_context(|| format!("reading {}", args.config.display()))?;
    let file: RunFile = toml::from_str(&text).with_context(|| format!("{}", args.config.display()))?;
    let base = args.config.parent().unwrap_or(Path::new("."));
    let names = match &file.devices {
        Some(list) if file.device.is_some() => bail!("{}: give `device` or `devices`, not both ({list:?})", args.config.display()),
        Some(list) if list.is_empty() => bail!("{}: `devices` is empty", args.config.display()),
        Some(list) => list.clone(),
        None => vec![file.device.clone().unwrap_or_else(|| device.to_string())],
    };
    let devices = names.iter().map(|n| nuner::device::select_device(n)).collect::<Result<Vec<_>, _>>()?;
    let device = devices[0].clone();
    if file.data.is_empty() {
        bail!("{}: `data` lists no file", args.config.display());
    }
    let pb = spinner("reading data");
    let mut data = Vec::new();
    for p in &file.data {
        let path = resolve(base, p);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        data.extend(read_data_file(&bytes, &path.display().to_string())?);
    }
    let model_dir = resolve(base, &file.model);
    pb.set_message(format!("loading {}", model_dir.display()));
    let files = ModelFiles::from_dir(&model_dir)?;
    let tokenizer_json = files.tokenizer.clone();
    let config = file.config();
    let n = data.len();
    let mut trainer = Pretrainer::new(config, files, data, &device)?.with_replicas(&devices);
    pb.finish_and_clear();
    let out = resolve(base, &file.out);
    let total = trainer.config().steps as u64;
    eprintln!("pre-training on {n} sentences, {total} steps, {} -> {}", names.join(" + "), out.display());
    let bar = bar(total, "starting");
    let mut resumed_shown = false;
    let start = run_pretraining(&mut trainer, &out, file.checkpoint_every.unwrap_or(500), &tokenizer_json, &mut |r, tps| {
        if !resumed_shown {
            bar.set_position(r.step as u64 - 1);
            bar.reset_eta();
            resumed_shown = true;
        }
        bar.set_position(r.step as u64);
        bar.set_message(format!("loss {:.4} · lr {:.2e} · {:.0} tok/s", r.loss, r.lr, tps));
    })?;
    bar.finish();
    if start > 0 {
        eprintln!("resumed from step {start}");
    }
    eprintln!("wrote {} (text tower) and {} (concept tower)", out.display(), out.join("concept_tower").display());
    Ok(())
}

/// Build an open-type concept pool (JSON lines of spans) from the labelled sets in a data
/// directory, holding out WNUT-17 and CrossNER. See `nuner::pretrain::pool`.
#[derive(clap::Args)]
pub struct PoolArgs {
    /// The data directory (e.g. ../shared/data).
    #[arg(long)]
    data: PathBuf,
    /// Output JSON lines file.
    #[arg(long)]
    out: PathBuf,
}

pub fn run_pool(args: PoolArgs) -> Result<()> {
    let (pool, report) = build_pool(&args.data)?;
    let tmp = args.out.with_extension("partial");
    std::fs::write(&tmp, write_jsonl(&pool)).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.out).with_context(|| format!("renaming to {}", args.out.display()))?;
    for (dataset, (sentences, spans)) in &report.datasets {
        eprintln!("{dataset}: {sentences} sentences, {spans} spans");
    }
    eprintln!(
        "{} sentences, {} concepts -> {} ({} duplicates and {} sentences without spans dropped)",
        pool.len(),
        report.concepts.len(),
        args.out.display(),
        report.duplicates,
        report.without_spans
    );
    Ok(())
}
