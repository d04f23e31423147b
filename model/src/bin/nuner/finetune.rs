//! `nuner finetune --model DIR --train FILE [--k K --seed S] [--head linear|mlp] --out HEAD`

use anyhow::{bail, Context, Result};
use nuner::data::Example;
use nuner::embed::block_on;
use nuner::heads::{FeatureConfig, HeadKind, LabelSet, Pooling, SavedHead, WordFeatures};
use nuner::pipeline::training_rows;
use nuner::train::{sample_k_shot, sample_k_to_2k, train_head, HeadTrainingConfig};
use nuner::Pretrained;
use serde_json::json;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use crate::dataset::DataArgs;
use crate::progress::{bar, spinner};

/// Train a NER head on frozen encoder features (the paper's few-shot protocol).
///
/// Examples:
///   nuner finetune --model public/model --train conll2003/eng.train --k 16 --seed 0 --out per.head.json
///   nuner finetune --model DIR --train labels.jsonl --head mlp --epochs 30 --out my.head.json
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
    let (saved, losses) = fit(&model, &device, &subset, &features, &labels, &feature_config, &config, summary, true)?;
    let tmp = args.out.with_extension("partial");
    std::fs::write(&tmp, saved.to_json_bytes()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    let mentions = subset.iter().map(|e| e.spans.len()).sum::<usize>();
    eprintln!(
        "trained a {} head on {} sentences ({} mentions, {} types) in {:.1} s; final loss {:.4}; saved {}",
        args.train_args.head,
        subset.len(),
        mentions,
        labels.types().len(),
        start.elapsed().as_secs_f64(),
        losses.last().copied().unwrap_or(f32::NAN),
        args.out.display()
    );
    Ok(())
}
