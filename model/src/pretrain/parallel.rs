//! Data-parallel pre-training over several devices (native only), with Burn's own multi-device
//! machinery — the "main-device optimiser" strategy of burn-train's multi-device learner:
//!
//! 1. the step's batch is cut into one contiguous shard of sentences per device; every shard is
//!    scored against **all** the batch's concepts, as the single-device step does;
//! 2. one thread per device [`fork`](Module::fork)s the model onto it and back-propagates its
//!    shard's share of the loss, `loss(shard) · tokens(shard) / tokens(batch)` — so the shares
//!    add up to the whole batch's loss and their gradients to its gradient;
//! 3. the gradients move to the main device ([`GradientsParams::to_device`]) and are summed
//!    with [`GradientsAccumulator`]; the optimiser steps once, there.
//!
//! The step is therefore the single-device step computed in pieces (a test checks it on two CPU
//! replicas). Each device draws its own dropout masks, seeded from `(seed, step, replica)`.
//! Burn's collective all-reduce (`burn::tensor::distributed`) only has a transport between CUDA
//! devices with NCCL, which we do not build; this path works on any set of devices.

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;

use crate::data::Example;
use crate::embed::{block_on, read_f32};

use super::batch::{make_batch_over, ConceptBatch};
use super::error::PretrainError;
use super::model::{ConceptInput, ConceptModel};
use super::trainer::Pretrainer;

/// The shards of one batch: `n` contiguous runs of sentences (fewer when the batch is smaller),
/// each scored against every concept of the batch, listed in order of first appearance as
/// [`super::batch::make_batch`] lists them.
pub fn shard_batch(examples: &[&Example], trainer: &Pretrainer, n: usize) -> Result<Vec<ConceptBatch>, PretrainError> {
    let mut concepts: Vec<String> = Vec::new();
    for span in examples.iter().flat_map(|e| &e.spans) {
        if !concepts.contains(&span.label) {
            concepts.push(span.label.clone());
        }
    }
    let tok = trainer.tokenizer();
    let pad = trainer.encoder_config().pad_token_id as u32;
    let max = trainer.config().max_length;
    let per = examples.len().div_ceil(n.max(1)).max(1);
    let shards = examples.chunks(per).map(|part| make_batch_over(part, tok, pad, max, concepts.clone()));
    Ok(shards.collect::<Result<Vec<_>, _>>()?)
}

/// Runs each shard on its replica device and returns the summed loss and the summed gradients,
/// on `main`.
pub(super) fn replicated_grads(
    model: &ConceptModel,
    shards: &[ConceptBatch],
    replicas: &[Device],
    main: &Device,
    encoder: &crate::EncoderConfig,
    pos_weight: f32,
    seed: u64,
) -> Result<(f32, GradientsParams), PretrainError> {
    let total: f32 = shards.iter().map(|b| b.token_mask.iter().sum::<f32>()).sum::<f32>().max(1.0);
    let results: Vec<Result<(f32, GradientsParams), PretrainError>> = std::thread::scope(|s| {
        let handles: Vec<_> = shards
            .iter()
            .zip(replicas)
            .enumerate()
            .map(|(r, (shard, device))| {
                let model = model.clone();
                s.spawn(move || {
                    let model = model.fork(device);
                    device.seed(seed.wrapping_add(r as u64));
                    let share = shard.token_mask.iter().sum::<f32>() / total;
                    let loss = model.loss(ConceptInput::new(shard, encoder, device), pos_weight) * share;
                    let value = block_on(read_f32(loss.clone().detach()))?[0];
                    Ok((value, GradientsParams::from_grads(loss.backward(), &model)))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a replica thread panicked")).collect()
    });
    let mut loss = 0.0;
    let mut sum = GradientsAccumulator::new();
    for result in results {
        let (value, grads) = result?;
        loss += value;
        sum.accumulate(model, grads.to_device(main, model));
    }
    Ok((loss, sum.grads()))
}
