//! Training a head on cached word features with AdamW.
//!
//! The loss is class-weighted cross-entropy plus `l2 / (2n) · ‖W‖²` on the weight matrices
//! (biases free): with `l2 = 1` its optimum is scikit-learn's `LogisticRegression(C=1)` for a
//! linear head, which the reference script uses. Rows are shuffled into mini-batches with a
//! seeded RNG; small training sets are one full batch. The linear head's gradients are computed
//! in closed form ([`super::linear`]), the MLP's by autodiff; both step with Burn's AdamW.

use std::ops::ControlFlow;

use burn::nn::Linear;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::kind::Basic;
use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::embed::read_f32;
use crate::error::{ModelError, Result};
use crate::heads::{Head, HeadConfig, HeadKind};
use crate::loss::weighted_cross_entropy;
use crate::train::linear::LinearBatch;

/// Hyper-parameters of head training.
#[derive(Config, Debug)]
pub struct HeadTrainingConfig {
    /// Architecture. Default linear.
    #[config(default = "HeadKind::Linear")]
    pub kind: HeadKind,
    /// Optimiser steps; the cosine learning-rate decay spans them. Default 2000 (small
    /// few-shot sets are one batch, so this is 2000 full-batch steps, about a second).
    #[config(default = 2000)]
    pub steps: usize,
    /// Passes over the rows instead of `steps` (the paper trains its MLP head 30 epochs).
    #[config(default = "None")]
    pub epochs: Option<usize>,
    /// Most rows per step; a set no larger is one full batch, a larger one is cut into equal
    /// batches. Default 8192 (few-shot sets are one batch).
    #[config(default = 8192)]
    pub batch_size: usize,
    /// Peak AdamW learning rate. Default 0.2.
    #[config(default = 0.2)]
    pub learning_rate: f64,
    /// L2 penalty on weights, scikit-learn's `1 / C`. Default 1.0.
    #[config(default = 1.0)]
    pub l2: f64,
    /// Loss weight of the `O` tag relative to entity tags (1 = unweighted). Default 1.0.
    #[config(default = 1.0)]
    pub o_weight: f32,
    /// MLP hidden width. Default 256.
    #[config(default = 256)]
    pub hidden: usize,
    /// Seed for initialisation and shuffling. Default 0.
    #[config(default = 0)]
    pub seed: u64,
    /// Read the loss back and report progress every this many epochs (and after the last).
    /// Reading back waits for the device, so the browser reports less often. Default 1.
    #[config(default = 1)]
    pub report_every: usize,
}

/// Training rows: word features and their tag ids.
#[derive(Debug, Clone, Default)]
pub struct TrainSet {
    /// `[rows × dim]` features.
    pub features: Vec<f32>,
    /// `[rows]` tag ids.
    pub tags: Vec<usize>,
    /// Feature width.
    pub dim: usize,
}

impl TrainSet {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.tags.len()
    }
    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// `rows` rows of deterministic pseudo-random features in `[-0.5, 0.5)` with tags cycling
    /// through `n_tags`: the head-training workload of the benchmarks (`nuner bench head`, the
    /// browser's bench page), the same on both.
    pub fn synthetic(rows: usize, dim: usize, n_tags: usize) -> Self {
        let features = (0..rows * dim).map(|i| (i.wrapping_mul(2654435761) % 1000) as f32 / 1000.0 - 0.5).collect();
        Self { features, tags: (0..rows).map(|i| (i * 7) % n_tags.max(1)).collect(), dim }
    }
}

/// Reported every `report_every` epochs; return `ControlFlow::Break(())` to stop (cancel).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainProgress {
    /// Epochs done.
    pub epoch: usize,
    /// Of this many.
    pub epochs: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f32,
}

/// What training did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Loss at each report (see [`HeadTrainingConfig::report_every`]).
    pub losses: Vec<f32>,
    /// True when stopped by the progress callback.
    pub cancelled: bool,
}

/// Trains a head of `n_tags` outputs on `set`. The returned head lives on `device` (without
/// autodiff).
pub async fn train_head(
    config: &HeadTrainingConfig,
    set: &TrainSet,
    n_tags: usize,
    device: &Device,
    progress: &mut dyn FnMut(TrainProgress) -> ControlFlow<()>,
) -> Result<(Head, TrainReport)> {
    if set.is_empty() {
        return Err(ModelError::Invalid("no training rows: label some examples first".into()));
    }
    if let Some(&bad) = set.tags.iter().find(|&&t| t >= n_tags) {
        return Err(ModelError::Invalid(format!("tag id {bad} is outside the {n_tags} tags")));
    }
    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let mut head = HeadConfig::new(config.kind, set.dim, n_tags).with_hidden(config.hidden).init(&ad);
    let mut optim = AdamWConfig::new().with_weight_decay(0.0).init();
    let mut class_weights = vec![1.0f32; n_tags];
    class_weights[0] = config.o_weight;
    let n = set.len();
    let l2 = (config.l2 / (2.0 * n as f64)) as f32;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut result = TrainReport { losses: Vec::new(), cancelled: false };
    let batches = n.div_ceil(config.batch_size.max(1));
    // Equal batches: a small remainder batch would weigh as much as a full one in each step.
    let per_batch = n.div_ceil(batches);
    let epochs = config.epochs.unwrap_or_else(|| config.steps.div_ceil(batches)).max(1);
    let total_steps = epochs * batches;
    // Uploaded once: a one-batch set (every few-shot set) reuses them every step; larger sets
    // gather their shuffled batches on the device. The linear head's closed form takes its tags
    // from the host; the MLP's autodiff loss takes them, and the class weights, as tensors.
    let all_x = Tensor::<2>::from_data(TensorData::new(set.features.clone(), [n, set.dim]), device);
    let linear = matches!(head, Head::Linear(_));
    let one_batch = (linear && n <= per_batch).then(|| LinearBatch::new(all_x.clone(), &set.tags, &class_weights));
    let mlp_targets = (!linear).then(|| {
        let tags = set.tags.iter().map(|&t| t as i64).collect::<Vec<_>>();
        let y = Tensor::<1, Int>::from_data(TensorData::new(tags, [n]), device);
        (y, Tensor::<1>::from_data(TensorData::new(class_weights.clone(), [n_tags]), device))
    });
    let mut step = 0;
    for epoch in 1..=epochs {
        if n > config.batch_size {
            order.shuffle(&mut rng);
        }
        let report = epoch == epochs || epoch % config.report_every.max(1) == 0;
        let mut total = 0.0;
        let mut batches = 0;
        for rows in order.chunks(per_batch) {
            let ids = (rows.len() < n).then(|| {
                let ids: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
                Tensor::<1, Int>::from_data(TensorData::new(ids, [rows.len()]), device)
            });
            let (loss, grads) = match (&head, &mlp_targets) {
                (Head::Linear(l), _) => match &one_batch {
                    Some(batch) => linear_grads(l, batch, l2),
                    None => {
                        let tags: Vec<usize> = rows.iter().map(|&r| set.tags[r]).collect();
                        linear_grads(l, &LinearBatch::new(rows_of(&all_x, ids.as_ref()), &tags, &class_weights), l2)
                    }
                },
                (Head::Mlp(_), Some((all_y, weights))) => {
                    autodiff_grads(&head, rows_of(&all_x, ids.as_ref()), rows_of(all_y, ids.as_ref()), weights, l2)
                }
                (Head::Mlp(_), None) => unreachable!("the MLP's targets are uploaded above"),
            };
            if report {
                total += read_f32(loss).await?[0];
                batches += 1;
            }
            // Cosine decay to zero: large early steps, a converged end.
            let lr = config.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total_steps as f64).cos());
            head = optim.step(lr, head, grads);
            step += 1;
        }
        if !report {
            continue;
        }
        let loss = total / batches as f32;
        result.losses.push(loss);
        if progress(TrainProgress { epoch, epochs, loss }).is_break() {
            result.cancelled = true;
            break;
        }
    }
    Ok((head.valid(), result))
}

/// The rows `ids` of `all` (all of them without `ids`).
fn rows_of<const D: usize, K: Basic>(all: &Tensor<D, K>, ids: Option<&Tensor<1, Int>>) -> Tensor<D, K> {
    ids.map_or_else(|| all.clone(), |ids| all.clone().select(0, ids.clone()))
}

/// The loss `[1]` and the gradients of one step of a linear head, in closed form, on `batch`.
fn linear_grads(linear: &Linear, batch: &LinearBatch, l2: f32) -> (Tensor<1>, GradientsParams) {
    let (loss, dw, db) = batch.loss_and_grads(linear, l2);
    let mut grads = GradientsParams::new();
    grads.register(linear.weight.id, dw);
    if let Some(b) = &linear.bias {
        grads.register(b.id, db);
    }
    (loss, grads)
}

/// The loss `[1]` (detached) and the gradients of one step by autodiff, on rows `x: [n, dim]`
/// with tags `y: [n]` and class `weights: [tags]` (plain tensors).
fn autodiff_grads(head: &Head, x: Tensor<2>, y: Tensor<1, Int>, weights: &Tensor<1>, l2: f32) -> (Tensor<1>, GradientsParams) {
    let (x, y, weights) = (x.autodiff(), y.autodiff(), weights.clone().autodiff());
    let loss = weighted_cross_entropy(head.forward(x), y, weights) + penalty(head) * l2;
    let grads = GradientsParams::from_grads(loss.backward(), head);
    (loss.inner(), grads)
}

/// `‖W‖²` over the weight matrices (not the biases).
pub(crate) fn penalty(head: &Head) -> Tensor<1> {
    let sq = |t: Tensor<2>| t.square().sum();
    match head {
        Head::Linear(l) => sq(l.weight.val()),
        Head::Mlp(m) => sq(m.hidden.weight.val()) + sq(m.output.weight.val()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::block_on;

    /// Tags a head can tell apart: each row's feature `tag` is raised well above the noise.
    fn separable(rows: usize, dim: usize, n_tags: usize) -> TrainSet {
        let mut set = TrainSet::synthetic(rows, dim, n_tags);
        for (r, &t) in set.tags.iter().enumerate() {
            set.features[r * dim + t] += 3.0;
        }
        set
    }

    /// Both heads, as one full batch and as shuffled mini-batches (the rows gathered on the
    /// device), lower their loss and then tag every training row right.
    #[test]
    fn both_heads_learn_in_full_and_mini_batches() {
        let device = Device::flex();
        let (rows, dim, n_tags) = (60, 16, 3);
        let set = separable(rows, dim, n_tags);
        for kind in [HeadKind::Linear, HeadKind::Mlp] {
            for batch_size in [8192, 16] {
                let config = HeadTrainingConfig::new()
                    .with_kind(kind)
                    .with_epochs(Some(40))
                    .with_batch_size(batch_size)
                    .with_hidden(32)
                    .with_learning_rate(0.05);
                let (head, report) = block_on(train_head(&config, &set, n_tags, &device, &mut |_| ControlFlow::Continue(()))).unwrap();
                let (first, last) = (report.losses[0], *report.losses.last().unwrap());
                assert_eq!(report.losses.len(), 40, "{kind:?}, batch {batch_size}");
                assert!(last < 0.5 * first, "{kind:?}, batch {batch_size}: loss {first} -> {last}");
                let x = Tensor::<2>::from_data(TensorData::new(set.features.clone(), [rows, dim]), &device);
                let scores = block_on(read_f32(head.forward(x))).unwrap();
                let predicted: Vec<usize> = scores
                    .chunks(n_tags)
                    .map(|row| (0..n_tags).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap())
                    .collect();
                assert_eq!(predicted, set.tags, "{kind:?}, batch {batch_size}");
            }
        }
    }

    #[test]
    fn synthetic_sets_are_deterministic_and_in_range() {
        let a = TrainSet::synthetic(10, 4, 3);
        assert_eq!(a.features, TrainSet::synthetic(10, 4, 3).features);
        assert_eq!((a.len(), a.features.len(), a.dim), (10, 40, 4));
        assert!(a.features.iter().all(|&f| (-0.5..0.5).contains(&f)));
        assert!(a.tags.iter().all(|&t| t < 3) && a.tags.contains(&0) && a.tags.contains(&2));
    }
}
