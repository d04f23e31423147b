//! Checkpoints: everything a run needs to continue as if it had never stopped.
//!
//! A checkpoint is a directory `OUT/checkpoints/step-NNNNNNNN/` holding
//!
//! | file | what |
//! |---|---|
//! | `model.bpk` | both towers (burnpack, f32, parameter ids kept so the optimiser state matches) |
//! | `optimizer.bpk` | AdamW moments and step counts (burn's `OptimizerRecord`) |
//! | `scheduler.bpk` | learning-rate scheduler position (burn's `LrSchedulerRecord`) |
//! | `state.json` | [`CheckpointState`]: steps done, next data position, seed, the run's identity |
//!
//! The RNG state is the seed: dropout is re-seeded from `(seed, step)` before every step and the
//! data order is a function of `(seed, step)` ([`super::batch::BatchPlan`]), so nothing else needs
//! saving. Writes are atomic: the files go to `step-NNNNNNNN.partial/`, are synced, and the
//! directory is renamed; a run killed at any moment leaves either the previous checkpoints or the
//! new one complete, never a half one. The last [`KEEP`] checkpoints are kept.

use serde::{Deserialize, Serialize};

use super::batch::DataPosition;
#[cfg(not(target_family = "wasm"))]
use super::error::PretrainError;

/// Checkpoints kept on disk (older ones are deleted after a new one is complete).
pub const KEEP: usize = 2;

/// The small part of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Optimiser steps done.
    pub step: usize,
    /// Where the next step draws its batch.
    pub next: DataPosition,
    /// The run's seed (data order and dropout derive from it).
    pub seed: u64,
    /// The run's identity: hyper-parameters, model and data fingerprints. A resumed run must
    /// have the same.
    pub identity: serde_json::Value,
}

/// A whole checkpoint, as bytes.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// Step, data position, seed, identity.
    pub state: CheckpointState,
    /// `model.bpk` bytes.
    pub model: Vec<u8>,
    /// `optimizer.bpk` bytes.
    pub optimizer: Vec<u8>,
    /// `scheduler.bpk` bytes.
    pub scheduler: Vec<u8>,
}

#[cfg(not(target_family = "wasm"))]
mod fs {
    use super::*;
    use std::io::Write;
    use std::path::{Path, PathBuf};

    const FILES: [&str; 4] = ["model.bpk", "optimizer.bpk", "scheduler.bpk", "state.json"];

    fn name(step: usize) -> String {
        format!("step-{step:08}")
    }

    fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), PretrainError> {
        let mut f = std::fs::File::create(path).map_err(|e| PretrainError::io(path, e))?;
        f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| PretrainError::io(path, e))
    }

    /// Complete checkpoints under `dir`, oldest first: `(step, path)`.
    pub fn list_checkpoints(dir: &Path) -> Result<Vec<(usize, PathBuf)>, PretrainError> {
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| PretrainError::io(dir, e))? {
            let path = entry.map_err(|e| PretrainError::io(dir, e))?.path();
            let step = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("step-")?.parse().ok());
            if let Some(step) = step {
                if path.is_dir() {
                    out.push((step, path));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Writes `ckpt` under `dir` atomically, then deletes all but the newest [`KEEP`] and any
    /// partial directory left by a killed run. Returns the checkpoint's directory.
    pub fn save_checkpoint(dir: &Path, ckpt: &Checkpoint) -> Result<PathBuf, PretrainError> {
        std::fs::create_dir_all(dir).map_err(|e| PretrainError::io(dir, e))?;
        let final_dir = dir.join(name(ckpt.state.step));
        let tmp = dir.join(format!("{}.partial", name(ckpt.state.step)));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| PretrainError::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| PretrainError::io(&tmp, e))?;
        let state = serde_json::to_vec_pretty(&ckpt.state).expect("state serialises");
        for (file, bytes) in FILES.iter().zip([&ckpt.model, &ckpt.optimizer, &ckpt.scheduler, &state]) {
            write_synced(&tmp.join(file), bytes)?;
        }
        if final_dir.exists() {
            std::fs::remove_dir_all(&final_dir).map_err(|e| PretrainError::io(&final_dir, e))?;
        }
        std::fs::rename(&tmp, &final_dir).map_err(|e| PretrainError::io(&final_dir, e))?;
        if let Ok(d) = std::fs::File::open(dir) {
            // Make the rename itself durable; not every filesystem allows syncing a directory.
            let _ = d.sync_all();
        }
        let all = list_checkpoints(dir)?;
        for (_, old) in all.iter().take(all.len().saturating_sub(KEEP)) {
            std::fs::remove_dir_all(old).map_err(|e| PretrainError::io(old, e))?;
        }
        for entry in std::fs::read_dir(dir).map_err(|e| PretrainError::io(dir, e))?.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "partial") {
                let _ = std::fs::remove_dir_all(&p);
            }
        }
        Ok(final_dir)
    }

    /// Reads the checkpoint in `path`.
    pub fn load_checkpoint(path: &Path) -> Result<Checkpoint, PretrainError> {
        let read = |f: &str| std::fs::read(path.join(f)).map_err(|e| PretrainError::io(path.join(f), e));
        let state: CheckpointState = serde_json::from_slice(&read("state.json")?)
            .map_err(|e| PretrainError::checkpoint(path.display(), format!("state.json: {e}")))?;
        Ok(Checkpoint { state, model: read("model.bpk")?, optimizer: read("optimizer.bpk")?, scheduler: read("scheduler.bpk")? })
    }

    /// The newest complete checkpoint under `dir`, if any.
    pub fn latest_checkpoint(dir: &Path) -> Result<Option<Checkpoint>, PretrainError> {
        match list_checkpoints(dir)?.pop() {
            Some((_, path)) => load_checkpoint(&path).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(not(target_family = "wasm"))]
pub use fs::{latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint};
