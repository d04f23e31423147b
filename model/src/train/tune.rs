//! Fine-tuning the top N encoder layers together with a head: the option beside the paper's
//! frozen protocol for users with a GPU (`nuner finetune --unfreeze N`).
//!
//! The embeddings and the bottom `L − N` layers stay frozen, so their output is computed once per
//! batch and cached, as the frozen protocol caches features; each step runs only the top N layers
//! forward and backward. Features are exactly the frozen protocol's (the configured hidden states
//! concatenated, pooled per word by a fixed selection matrix), so the linear probe trained on
//! frozen features ([`super::train_head`]) is the starting head, and a step with a learning rate
//! of zero reproduces the frozen head's predictions.
//!
//! Optimisation: AdamW on both, the encoder layers at `encoder_lr` (decoupled weight decay,
//! gradient norm clipped per tensor), the head at `head_lr` with the same `l2 / (2n) · ‖W‖²`
//! penalty as head training; linear warm-up over the first 10% of the steps, then linear decay
//! to zero. Batches of `batch_size` texts are fixed; their order is reshuffled every pass.

use std::ops::ControlFlow;

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::head::{penalty, TrainProgress, TrainReport};
use crate::data::Example;
use crate::embed::{default_window, read_f32};
use crate::encoder::{Encoder, EncoderLayer, TokenBatch};
use crate::error::{ModelError, Result};
use crate::heads::features::unit_tokens;
use crate::heads::{FeatureConfig, Head, LabelSet};
use crate::loss::weighted_cross_entropy;
use crate::pipeline::tag_ids;
use crate::pretrained::Pretrained;

/// Hyper-parameters of top-layer fine-tuning (our defaults; the paper freezes the encoder).
#[derive(Config, Debug)]
pub struct TuneConfig {
    /// Top encoder layers trained, `1..=layers`.
    pub layers: usize,
    /// Optimiser steps (one batch each). Default 300.
    #[config(default = 300)]
    pub steps: usize,
    /// Texts per batch. Default 16.
    #[config(default = 16)]
    pub batch_size: usize,
    /// Peak learning rate of the encoder layers. Default 5e-5.
    #[config(default = 5e-5)]
    pub encoder_lr: f64,
    /// Peak learning rate of the head (it starts from the trained probe). Default 1e-4.
    #[config(default = 1e-4)]
    pub head_lr: f64,
    /// AdamW decoupled weight decay of the encoder layers. Default 0.01.
    #[config(default = 0.01)]
    pub weight_decay: f32,
    /// L2 penalty on the head's weights, as in head training. Default 1.0.
    #[config(default = 1.0)]
    pub l2: f64,
    /// Loss weight of the `O` tag. Default 1.0.
    #[config(default = 1.0)]
    pub o_weight: f32,
    /// Seed of the batch order and dropout. Default 0.
    #[config(default = 0)]
    pub seed: u64,
    /// Read the loss back every this many steps (and after the last). Default 10.
    #[config(default = 10)]
    pub report_every: usize,
}

/// One fixed batch: the frozen part's output, cached.
struct CachedBatch {
    /// `[B, S, hidden]`, the hidden state entering the first trained layer.
    input: Tensor<3>,
    /// Per feature slot, the cached hidden state when that layer is frozen.
    frozen: Vec<Option<Tensor<3>>>,
    /// `[B, S]` attention mask (host).
    attention: Vec<i64>,
    shape: [usize; 2],
    /// `[units, B·S]` pooling weights (host).
    select: Vec<f32>,
    /// `[units]` tag ids (host).
    tags: Vec<i64>,
}

/// Host rows of one batch: token ids per window, pooling weights and tags.
fn host_batch(
    model: &Pretrained,
    examples: &[&Example],
    units: &[&Vec<(usize, usize)>],
    features: &FeatureConfig,
    labels: &LabelSet,
) -> Result<(TokenBatch, Vec<f32>, Vec<i64>)> {
    let tok = &model.tokenizer;
    let window = default_window(model);
    let pre = tok.prefix().len();
    let mut rows: Vec<Vec<u32>> = Vec::new();
    // (window row, position) of each pooled token, weight, per unit.
    let mut picks: Vec<Vec<(usize, usize, f32)>> = Vec::new();
    let mut tags = Vec::new();
    for (e, u) in examples.iter().zip(units) {
        let t = tok.tokenize(&e.text)?;
        let windows = window.plan(t.len());
        let first_row = rows.len();
        rows.extend(windows.iter().map(|w| tok.wrap(&t.ids[w.span.clone()])));
        let offsets: Vec<Option<(usize, usize)>> = t.offsets.iter().copied().map(Some).collect();
        for members in unit_tokens(&offsets, u, features.pooling) {
            let weight = 1.0 / members.len().max(1) as f32;
            let at = members.iter().map(|&m| {
                let k = windows.iter().position(|w| w.owned.contains(&m)).expect("windows own every token");
                (first_row + k, pre + m - windows[k].span.start, weight)
            });
            picks.push(at.collect());
        }
        tags.extend(tag_ids(e, u, labels)?.0.into_iter().map(|id| id as i64));
    }
    let batch = TokenBatch::right_padded(&rows, model.config.pad_token_id as u32);
    let mut select = vec![0.0f32; picks.len() * batch.batch * batch.seq];
    let width = batch.batch * batch.seq;
    for (unit, at) in picks.iter().enumerate() {
        for &(row, pos, w) in at {
            select[unit * width + row * batch.seq + pos] += w;
        }
    }
    Ok((batch, select, tags))
}

/// Fine-tunes the top `config.layers` layers of `model`'s encoder and `head` on `examples`
/// (word `units` per example, the tags of `labels`). Returns the whole encoder with its top
/// layers replaced and the head, both on `device` without autodiff.
#[allow(clippy::too_many_arguments)]
pub async fn tune_top_layers(
    config: &TuneConfig,
    model: &Pretrained,
    examples: &[Example],
    units: &[Vec<(usize, usize)>],
    features: &FeatureConfig,
    labels: &LabelSet,
    head: Head,
    device: &Device,
    progress: &mut dyn FnMut(TrainProgress) -> ControlFlow<()>,
) -> Result<(Encoder, Head, TrainReport)> {
    let n_layers = model.encoder.num_layers();
    if config.layers == 0 || config.layers > n_layers {
        return Err(ModelError::Invalid(format!("can unfreeze 1 to {n_layers} layers, not {}", config.layers)));
    }
    if examples.is_empty() || examples.len() != units.len() {
        return Err(ModelError::Invalid("no training examples: label some first".into()));
    }
    if let Some(&bad) = features.layers.iter().find(|&&l| l > n_layers) {
        return Err(ModelError::Invalid(format!("feature layer {bad} does not exist (0..={n_layers})")));
    }
    let cut = n_layers - config.layers;
    let ad = device.clone().autodiff();
    ad.seed(config.seed);

    // Fixed batches, their frozen part computed once.
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(config.seed));
    let mut cached = Vec::new();
    let mut rows_total = 0;
    for ids in order.chunks(config.batch_size.max(1)) {
        let ex: Vec<&Example> = ids.iter().map(|&i| &examples[i]).collect();
        let un: Vec<&Vec<(usize, usize)>> = ids.iter().map(|&i| &units[i]).collect();
        let (batch, select, tags) = host_batch(model, &ex, &un, features, labels)?;
        if tags.is_empty() {
            continue;
        }
        rows_total += tags.len();
        let input = batch.to_input(&model.config, device);
        let pad_mask = model.encoder.pad_mask(input.attention_mask.clone());
        let x = model.encoder.embeddings.forward(input.input_ids, input.position_ids, input.token_type_ids);
        let mut states = vec![x.clone()];
        states.extend(model.encoder.forward_layers(x, &pad_mask, 0..cut));
        cached.push(CachedBatch {
            input: states[cut].clone(),
            frozen: features.layers.iter().map(|&l| (l <= cut).then(|| states[l].clone())).collect(),
            attention: batch.attention_mask.iter().map(|&m| m as i64).collect(),
            shape: [batch.batch, batch.seq],
            select,
            tags,
        });
    }
    if cached.is_empty() {
        return Err(ModelError::Invalid("the examples have no words to learn from".into()));
    }

    let mut top: Vec<EncoderLayer> = model.encoder.layers[cut..].iter().map(|l| l.clone().fork(&ad).train()).collect();
    let mut head = head.fork(&ad).train();
    let clip = Some(GradientClippingConfig::Norm(1.0));
    let mut optim_top = AdamWConfig::new().with_weight_decay(config.weight_decay).with_grad_clipping(clip).init();
    let mut optim_head = AdamWConfig::new().with_weight_decay(0.0).init();
    let mut class_weights = vec![1.0f32; labels.num_tags()];
    class_weights[0] = config.o_weight;
    let weights = Tensor::<1>::from_data(TensorData::new(class_weights, [labels.num_tags()]), &ad);
    let l2 = (config.l2 / (2.0 * rows_total as f64)) as f32;
    let warmup = (config.steps / 10).max(1);
    let mut report = TrainReport { losses: Vec::new(), cancelled: false };
    let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(1));
    let mut pass: Vec<usize> = Vec::new();
    for step in 0..config.steps {
        if pass.is_empty() {
            pass = (0..cached.len()).collect();
            pass.shuffle(&mut rng);
        }
        let b = &cached[pass.pop().expect("refilled")];
        let [nb, seq] = b.shape;
        let units = b.tags.len();
        let attention = Tensor::<2, Int>::from_data(TensorData::new(b.attention.clone(), [nb, seq]), &ad);
        let pad_mask = model.encoder.pad_mask(attention);
        let mut x = b.input.clone().autodiff();
        let mut outs = Vec::with_capacity(top.len());
        for layer in &top {
            x = layer.forward(x, pad_mask.clone());
            outs.push(x.clone());
        }
        let slots: Vec<Tensor<3>> = features
            .layers
            .iter()
            .zip(&b.frozen)
            .map(|(&l, frozen)| match frozen {
                Some(t) => t.clone().autodiff(),
                None => outs[l - cut - 1].clone(),
            })
            .collect();
        let dim = features.dim(model.config.hidden_size);
        let flat = Tensor::cat(slots, 2).reshape([nb * seq, dim]);
        let select = Tensor::<2>::from_data(TensorData::new(b.select.clone(), [units, nb * seq]), &ad);
        let tags = Tensor::<1, Int>::from_data(TensorData::new(b.tags.clone(), [units]), &ad);
        let logits = head.forward(select.matmul(flat));
        let loss = weighted_cross_entropy(logits, tags, weights.clone()) + penalty(&head) * l2;
        let last = step + 1 == config.steps;
        let reading = last || (step + 1) % config.report_every.max(1) == 0;
        let value = if reading { Some(read_f32(loss.clone().detach()).await?[0]) } else { None };
        let mut grads = loss.backward();
        let grads_head = GradientsParams::from_module(&mut grads, &head);
        let grads_top = GradientsParams::from_module(&mut grads, &top);
        let scale = if step < warmup {
            (step + 1) as f64 / warmup as f64
        } else {
            (config.steps - step) as f64 / (config.steps - warmup + 1) as f64
        };
        head = optim_head.step(config.head_lr * scale, head, grads_head);
        top = optim_top.step(config.encoder_lr * scale, top, grads_top);
        if let Some(loss) = value {
            report.losses.push(loss);
            if progress(TrainProgress { epoch: step + 1, epochs: config.steps, loss }).is_break() {
                report.cancelled = true;
                break;
            }
        }
    }
    let mut encoder = model.encoder.clone();
    for (slot, layer) in encoder.layers[cut..].iter_mut().zip(&top) {
        *slot = layer.valid();
    }
    Ok((encoder, head.valid(), report))
}
