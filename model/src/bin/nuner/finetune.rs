//! `nuner finetune --model DIR --train FILE [--k K --seed S] [--head linear|mlp] --out HEAD`

use anyhow::{bail, Context, Result};
use nuner::data::Example;
use nuner::embed::block_on;
use nuner::heads::{FeatureConfig, HeadKind, LabelSet, Pooling, SavedHead, WordFeatures};
use nuner::pipeline::training_rows;
use nuner::train::{sample_k_shot, sample_k_to_2k, train_head, tune_top_layers, HeadTrainingConfig, TuneConfig};
use nuner::Pretrained;
use serde_json::json;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use crate::convert::write_atomic;
use crate::dataset::DataArgs;
use crate::progress::{bar, spinner};

/// Train a NER head on frozen encoder features (the paper's few-shot protocol), optionally
/// fine-tuning the top encoder layers with it.
///
/// Examples:
///   nuner finetune --model public/model --train conll2003/eng.train --k 16 --seed 0 --out per.head.json
///   nuner finetune --model DIR --train labels.jsonl --head mlp --epochs 30 --out my.head.json
///   nuner finetune --model DIR --train labels.jsonl --unfreeze 2 --out-model tuned/ --out tuned.head.json
#[derive(clap::Args)]
pub struct Args {
    /// Encoder directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Annotated training file (CoNLL, JSONL spans or GLiNER JSON).
    #[arg(long)]
    pub train: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Sample k mentions per entity type (default: train on the whole file).
    #[arg(long)]
    pub k: Option<usize>,
    /// Seed of the sample, the initialisation and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sampling: kshot (until every type has k mentions) or k2k (between k and 2k, Few-NERD).
    #[arg(long, default_value = "kshot", value_parser = ["kshot", "k2k"])]
    pub sampling: String,
    #[command(flatten)]
    pub train_args: TrainArgs,
    #[command(flatten)]
    pub tune: TuneArgs,
    /// Where to write the head (JSON).
    #[arg(long)]
    pub out: PathBuf,
}

/// Head and optimisation options.
#[derive(clap::Args, Clone)]
pub struct TrainArgs {
    /// Head: linear (the paper's probe) or mlp (two layers).
    #[arg(long, default_value = "linear", value_parser = ["linear", "mlp"])]
    pub head: String,
    /// Optimiser steps (default 2000 for linear; ignored with --epochs).
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Epochs instead of steps (default for mlp: 30, as in the paper's LLM comparison).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Peak AdamW learning rate (cosine decay to zero; default 0.2 linear, 0.001 mlp).
    #[arg(long)]
    pub lr: Option<f64>,
    /// L2 penalty on weights (scikit-learn's 1/C).
    #[arg(long, default_value_t = 1.0)]
    pub l2: f64,
    /// Loss weight of the O tag relative to entity tags.
    #[arg(long, default_value_t = 1.0)]
    pub o_weight: f32,
    /// Hidden states to concatenate, e.g. "6,3" (default: last and middle, NuNER's recipe).
    #[arg(long, value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,
    /// Sub-token pooling: first or mean.
    #[arg(long, default_value = "first", value_parser = ["first", "mean"])]
    pub pooling: String,
}

/// Fine-tuning the top encoder layers (beyond the paper's frozen protocol).
#[derive(clap::Args, Clone)]
pub struct TuneArgs {
    /// After training the head on frozen features, fine-tune it together with the top N encoder
    /// layers (autodiff; meant for a GPU, slow on a CPU). Needs --out-model.
    #[arg(long, default_value_t = 0)]
    pub unfreeze: usize,
    /// Where to write the fine-tuned encoder (Hugging Face layout); the head refers to it.
    #[arg(long)]
    pub out_model: Option<PathBuf>,
    /// Fine-tuning steps, one batch of --tune-batch texts each.
    #[arg(long, default_value_t = 300)]
    pub tune_steps: usize,
    /// Texts per fine-tuning batch.
    #[arg(long, default_value_t = 16)]
    pub tune_batch: usize,
    /// Peak learning rate of the encoder layers.
    #[arg(long, default_value_t = 5e-5)]
    pub encoder_lr: f64,
    /// Peak learning rate of the head while fine-tuning.
    #[arg(long, default_value_t = 1e-4)]
    pub head_lr: f64,
}

impl TuneArgs {
    pub fn config(&self, train: &TrainArgs, seed: u64) -> TuneConfig {
        TuneConfig::new(self.unfreeze)
            .with_steps(self.tune_steps)
            .with_batch_size(self.tune_batch)
            .with_encoder_lr(self.encoder_lr)
            .with_head_lr(self.head_lr)
            .with_l2(train.l2)
            .with_o_weight(train.o_weight)
            .with_seed(seed)
    }
}

impl TrainArgs {
    pub fn feature_config(&self, model: &Pretrained) -> FeatureConfig {
        let mut f = FeatureConfig::nuner(model.config.num_hidden_layers);
        if let Some(l) = &self.layers {
            f.layers = l.clone();
        }
        f.pooling = if self.pooling == "mean" { Pooling::Mean } else { Pooling::First };
        f
    }

    pub fn training_config(&self, seed: u64) -> HeadTrainingConfig {
        let kind = if self.head == "mlp" { HeadKind::Mlp } else { HeadKind::Linear };
        let mlp = kind == HeadKind::Mlp;
        let epochs = self.epochs.or(if mlp { Some(30) } else { None });
        HeadTrainingConfig::new()
            .with_kind(kind)
            .with_steps(self.steps)
            .with_epochs(epochs)
            .with_learning_rate(self.lr.unwrap_or(if mlp { 1e-3 } else { 0.2 }))
            .with_l2(self.l2)
            .with_o_weight(self.o_weight)
            .with_seed(seed)
    }
}

/// Indices of the training sentences: a k-shot sample, or all of them.
pub fn pick(examples: &[Example], k: Option<usize>, sampling: &str, seed: u64) -> Vec<usize> {
    match k {
        None => (0..examples.len()).collect(),
        Some(k) if sampling == "k2k" => sample_k_to_2k(examples, k, seed),
        Some(k) => sample_k_shot(examples, k, seed),
    }
}

/// Trains a head on `examples` with their `features`; returns the saved form.
pub fn fit(
    model: &Pretrained,
    device: &burn::prelude::Device,
    examples: &[Example],
    features: &[WordFeatures],
    labels: &LabelSet,
    feature_config: &FeatureConfig,
    config: &HeadTrainingConfig,
    summary: serde_json::Value,
    show: bool,
) -> Result<(SavedHead, Vec<f32>)> {
    let (rows, misaligned) = training_rows(examples, features, labels)?;
    if misaligned > 0 {
        eprintln!("{misaligned} span(s) do not align with word boundaries; tagged on the words they overlap");
    }
    let pb = if show { bar(0, "training") } else { indicatif::ProgressBar::hidden() };
    let (head, report) = block_on(train_head(config, &rows, labels.num_tags(), device, &mut |p| {
        pb.set_length(p.epochs as u64);
        pb.set_position(p.epoch as u64);
        pb.set_message(format!("training (loss {:.4})", p.loss));
        ControlFlow::Continue(())
    }))?;
    pb.finish_and_clear();
    let mut training = summary;
    training["rows"] = json!(rows.len());
    training["epochs"] = json!(report.losses.len());
    training["final_loss"] = json!(report.losses.last());
    training["config"] = serde_json::to_value(config)?;
    let saved = block_on(SavedHead::capture(&head, model, feature_config.clone(), labels.clone(), training))?;
    Ok((saved, report.losses))
}

pub fn run(args: Args, device: &str) -> Result<()> {
    if args.tune.unfreeze > 0 && args.tune.out_model.is_none() {
        bail!("--unfreeze changes the encoder: give --out-model DIR for the fine-tuned encoder");
    }
    if let Some(out) = args.tune.out_model.as_ref().filter(|_| args.tune.unfreeze > 0) {
        // Never overwrite the encoder being tuned, nor a converted model (its model.bpk would
        // shadow the new weights).
        let same = out.canonicalize().ok().is_some_and(|o| args.model.canonicalize().ok() == Some(o));
        if same || out.join("model.bpk").exists() {
            bail!("--out-model {} holds a model already: choose a new directory", out.display());
        }
    }
    let device = nuner::device::select_device(device)?;
    let pb = spinner("loading model");
    let model = Pretrained::from_dir(&args.model, &device)?;
    pb.finish_and_clear();
    let data = args.data.read(&args.train)?;
    let labels = LabelSet::new(data.examples.iter().flat_map(|e| e.spans.iter().map(|s| s.label.clone())));
    if labels.types().is_empty() {
        bail!("{}: no labelled span, nothing to learn", data.name);
    }
    let chosen = pick(&data.examples, args.k, &args.sampling, args.seed);
    let subset: Vec<Example> = chosen.iter().map(|&i| data.examples[i].clone()).collect();
    let feature_config = args.train_args.feature_config(&model);
    let start = Instant::now();
    let features = if args.k.is_some() {
        // A sample is small: compute its features directly rather than the whole file's.
        let texts: Vec<&str> = subset.iter().map(|e| e.text.as_str()).collect();
        nuner::pipeline::features_parallel(&model, &texts, data.segmentation, &feature_config, &device, args.data.threads(), &|_, _| {})?
    } else {
        args.data.features(&data, &model, &feature_config, &device)?
    };
    let config = args.train_args.training_config(args.seed);
    let summary = json!({
        "train": data.name, "k": args.k, "seed": args.seed, "sampling": args.sampling,
        "sentences": subset.len(), "segmentation": data.segmentation,
    });
    let (mut saved, mut losses) = fit(&model, &device, &subset, &features, &labels, &feature_config, &config, summary, true)?;
    if let Some(out_model) = args.tune.out_model.as_ref().filter(|_| args.tune.unfreeze > 0) {
        let tune = args.tune.config(&args.train_args, args.seed);
        let units = nuner::pipeline::units_of(&subset, data.segmentation);
        let pb = bar(tune.steps as u64, "fine-tuning");
        let head = saved.to_head(&device);
        let (encoder, head, report) = block_on(tune_top_layers(&tune, &model, &subset, &units, &feature_config, &labels, head, &device, &mut |p| {
            pb.set_position(p.epoch as u64);
            pb.set_message(format!("fine-tuning {} layers (loss {:.4})", tune.layers, p.loss));
            ControlFlow::Continue(())
        }))?;
        pb.finish_and_clear();
        let tokenizer = std::fs::read(args.model.join("tokenizer.json")).with_context(|| format!("{}/tokenizer.json", args.model.display()))?;
        std::fs::create_dir_all(out_model).with_context(|| format!("creating {}", out_model.display()))?;
        for (name, bytes) in nuner::pretrain::run::hf_files(&encoder, &model.config, &tokenizer)? {
            write_atomic(&out_model.join(name), &bytes)?;
        }
        // Reload what was written: the head names the encoder by the fingerprint of its files.
        let tuned = Pretrained::from_dir(out_model, &device)?;
        let mut training = saved.training.clone();
        training["unfreeze"] = json!(tune.layers);
        training["tune"] = serde_json::to_value(&tune)?;
        training["tune_final_loss"] = json!(report.losses.last());
        training["base_model"] = json!(model.name);
        saved = block_on(SavedHead::capture(&head, &tuned, feature_config.clone(), labels.clone(), training))?;
        losses = report.losses;
    }
    write_atomic(&args.out, &saved.to_json_bytes())?;
    let mentions = subset.iter().map(|e| e.spans.len()).sum::<usize>();
    eprintln!(
        "trained a {} head{} on {} sentences ({} mentions, {} types) in {:.1} s; final loss {:.4}; saved {}",
        args.train_args.head,
        match args.tune.unfreeze {
            0 => String::new(),
            n => format!(" and the top {n} encoder layers ({})", args.tune.out_model.as_ref().expect("checked").display()),
        },
        subset.len(),
        mentions,
        labels.types().len(),
        start.elapsed().as_secs_f64(),
        losses.last().copied().unwrap_or(f32::NAN),
        args.out.display()
    );
    Ok(())
}
