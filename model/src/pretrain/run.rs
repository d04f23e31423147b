//! A run on disk (native): resume from the newest checkpoint, step, log metrics, checkpoint
//! every N steps, and write the result in Hugging Face layout.
//!
//! ```text
//! OUT/config.json, OUT/model.safetensors, OUT/tokenizer.json   the text tower (NuNER): what
//!                                                              `nuner embed/finetune/...` load
//! OUT/concept_tower/{config.json, model.safetensors, tokenizer.json}   kept for zero-shot use
//! OUT/metrics.jsonl       {"step", "loss", "lr", "tokens_per_s", "concepts"} per step
//! OUT/pretrain.json       the settings of the run
//! OUT/checkpoints/step-NNNNNNNN/   see super::checkpoint
//! ```
//!
//! After a kill (even SIGKILL) the same command continues from the newest complete checkpoint:
//! `metrics.jsonl` is cut back to that step (a torn last line included) and the steps after it
//! are run again with the same batches and dropout, so the loss curve is the uninterrupted one.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::EncoderConfig;
use crate::embed::block_on;
use crate::encoder::Encoder;
use crate::pretrained::names;
use crate::weights::save_hf_safetensors;

use super::checkpoint::{latest_checkpoint, save_checkpoint};
use super::error::PretrainError;
use super::trainer::{Pretrainer, StepReport};

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsLine {
    /// Steps done.
    pub step: usize,
    /// The step's batch loss.
    pub loss: f32,
    /// Its learning rate.
    pub lr: f64,
    /// Sentence tokens per second of wall time for the step.
    pub tokens_per_s: f64,
    /// Distinct concepts in the batch.
    pub concepts: usize,
}

/// The Hugging Face files of an encoder: `config.json`, `model.safetensors`, `tokenizer.json`.
pub fn hf_files(encoder: &Encoder, config: &EncoderConfig, tokenizer_json: &[u8]) -> Result<Vec<(&'static str, Vec<u8>)>, PretrainError> {
    Ok(vec![
        (names::CONFIG, config.to_json_bytes()),
        (names::SAFETENSORS, save_hf_safetensors(encoder)?),
        (names::TOKENIZER, tokenizer_json.to_vec()),
    ])
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PretrainError> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| PretrainError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| PretrainError::io(path, e))
}

/// Writes both towers under `out` (see the module documentation).
pub fn export(trainer: &Pretrainer, out: &Path, tokenizer_json: &[u8]) -> Result<(), PretrainError> {
    let cfg = trainer.encoder_config();
    for (dir, encoder) in [(out.to_path_buf(), trainer.text_encoder()), (out.join("concept_tower"), trainer.concept_encoder())] {
        std::fs::create_dir_all(&dir).map_err(|e| PretrainError::io(&dir, e))?;
        for (name, bytes) in hf_files(&encoder, cfg, tokenizer_json)? {
            write_atomic(&dir.join(name), &bytes)?;
        }
    }
    Ok(())
}

/// Keeps the metrics lines of steps `1..=step` (complete lines only).
fn cut_metrics(path: &Path, step: usize) -> Result<(), PretrainError> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let mut kept = String::new();
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        match serde_json::from_str::<MetricsLine>(line) {
            Ok(m) if m.step <= step => kept.push_str(line),
            _ => break,
        }
    }
    write_atomic(path, kept.as_bytes())
}

/// Runs (or resumes) pre-training into `out`, checkpointing every `checkpoint_every` steps
/// (and after the last), then exports both towers. `progress` sees every step and its
/// throughput. Returns the step the run started from (0 for a fresh run).
pub fn run_pretraining(
    trainer: &mut Pretrainer,
    out: &Path,
    checkpoint_every: usize,
    tokenizer_json: &[u8],
    progress: &mut dyn FnMut(&StepReport, f64),
) -> Result<usize, PretrainError> {
    std::fs::create_dir_all(out).map_err(|e| PretrainError::io(out, e))?;
    let ckpt_dir = out.join("checkpoints");
    let metrics_path = out.join("metrics.jsonl");
    let start = match latest_checkpoint(&ckpt_dir)? {
        Some(ckpt) => {
            trainer.restore(ckpt)?;
            trainer.steps_done()
        }
        None => 0,
    };
    cut_metrics(&metrics_path, start)?;
    let settings = serde_json::to_vec_pretty(trainer.config()).expect("config serialises");
    write_atomic(&out.join("pretrain.json"), &settings)?;
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&metrics_path)
        .map_err(|e| PretrainError::io(&metrics_path, e))?;
    let total = trainer.config().steps;
    while trainer.steps_done() < total {
        let t0 = Instant::now();
        let report = block_on(trainer.step())?;
        let tokens_per_s = report.tokens as f64 / t0.elapsed().as_secs_f64().max(1e-9);
        let line = MetricsLine { step: report.step, loss: report.loss, lr: report.lr, tokens_per_s, concepts: report.concepts };
        let mut text = serde_json::to_string(&line).expect("metrics serialise");
        text.push('\n');
        metrics.write_all(text.as_bytes()).map_err(|e| PretrainError::io(&metrics_path, e))?;
        progress(&report, tokens_per_s);
        if report.step % checkpoint_every.max(1) == 0 || report.step == total {
            metrics.sync_data().map_err(|e| PretrainError::io(&metrics_path, e))?;
            save_checkpoint(&ckpt_dir, &trainer.checkpoint()?)?;
        }
    }
    export(trainer, out, tokenizer_json)?;
    Ok(start)
}
