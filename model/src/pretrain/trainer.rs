//! One pre-training run in memory: the two towers, AdamW, the learning-rate schedule and the
//! batch order, advanced one step at a time, saved to and restored from [`Checkpoint`]s.
//!
//! Optimiser: AdamW (burn), gradient clipping by norm **per parameter tensor** (burn's
//! `GradientClippingConfig::Norm` on the optimiser config). Schedule: linear warm-up from
//! `lr / warmup_steps` to `lr` over `warmup_steps` steps, then linear or cosine decay to zero at
//! `steps` (burn's `SequentialLrSchedulerConfig`). Dropout is re-seeded from `(seed, step)`
//! before each step so that a resumed run repeats the uninterrupted one exactly.

use burn::module::Module;
use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::lr_scheduler::sequential::SequentialLrSchedulerConfig;
use burn::optim::lr_scheduler::{LrSchedulerConfig, LrSchedulerRecord};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::EncoderConfig;
use crate::data::Example;
use crate::embed::read_f32;
use crate::encoder::Encoder;
use crate::pretrained::{ModelFiles, Pretrained};
use crate::tokenize::NerTokenizer;

use super::batch::{make_batch, BatchPlan};
use super::checkpoint::{Checkpoint, CheckpointState};
use super::error::PretrainError;
use super::model::{ConceptInput, ConceptModel, ConceptModelConfig};

/// Learning-rate decay after the warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Decay {
    /// Linear to zero.
    #[default]
    Linear,
    /// Half a cosine to zero.
    Cosine,
}

/// Hyper-parameters of pre-training (the paper gives none but the frozen layers; these
/// defaults are ours).
#[derive(Config, Debug)]
pub struct PretrainConfig {
    /// Optimiser steps. Default 1000.
    #[config(default = 1000)]
    pub steps: usize,
    /// Sentences per step. Default 32.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Tokens per sentence and per concept name, special tokens included; longer ones are cut.
    /// Lowered to the model's positions when it has fewer. Default 128.
    #[config(default = 128)]
    pub max_length: usize,
    /// Peak AdamW learning rate. Default 5e-5.
    #[config(default = 5e-5)]
    pub learning_rate: f64,
    /// Linear warm-up steps (0 = none). Default 0.
    #[config(default = 0)]
    pub warmup_steps: usize,
    /// Decay after the warm-up. Default linear.
    #[config(default = "Decay::Linear")]
    pub decay: Decay,
    /// Text-tower layers frozen from the bottom; default `None` = half (see
    /// [`ConceptModelConfig`]).
    #[config(default = "None")]
    pub frozen_layers: Option<usize>,
    /// AdamW decoupled weight decay. Default 0.01.
    #[config(default = 0.01)]
    pub weight_decay: f32,
    /// Largest gradient norm of one parameter tensor (0 = no clipping). Default 1.0.
    #[config(default = 1.0)]
    pub grad_clip_norm: f32,
    /// Loss weight of positive (token, concept) pairs. Default 1.0.
    #[config(default = 1.0)]
    pub pos_weight: f32,
    /// Seed of the data order and dropout. Default 0.
    #[config(default = 0)]
    pub seed: u64,
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Steps done, this one included.
    pub step: usize,
    /// The batch's loss (before the update).
    pub loss: f32,
    /// The learning rate used.
    pub lr: f64,
    /// Sentence tokens in the batch (special tokens included).
    pub tokens: usize,
    /// Distinct concepts in the batch.
    pub concepts: usize,
}

/// A run in progress.
pub struct Pretrainer {
    config: PretrainConfig,
    encoder_config: EncoderConfig,
    tokenizer: NerTokenizer,
    model: ConceptModel,
    optim: ModuleOptimizer,
    scheduler: ModuleLrScheduler,
    plan: BatchPlan,
    data: Vec<Example>,
    step: usize,
    device: Device,
    /// Devices of a data-parallel step (see [`super::parallel`]); empty for one device.
    replicas: Vec<Device>,
    identity: serde_json::Value,
}

fn scheduler(c: &PretrainConfig) -> Result<ModuleLrScheduler, PretrainError> {
    let decay_steps = c.steps - c.warmup_steps;
    let decay = match c.decay {
        Decay::Linear => LrSchedulerConfig::Linear(LinearLrSchedulerConfig::new(c.learning_rate, 0.0, decay_steps)),
        Decay::Cosine => LrSchedulerConfig::Cosine(CosineAnnealingLrSchedulerConfig::new(c.learning_rate, decay_steps)),
    };
    let built = if c.warmup_steps == 0 {
        SequentialLrSchedulerConfig::new(vec![decay], vec![]).init()
    } else {
        let start = c.learning_rate / c.warmup_steps as f64;
        let warmup = LrSchedulerConfig::Linear(LinearLrSchedulerConfig::new(start, c.learning_rate, c.warmup_steps));
        SequentialLrSchedulerConfig::new(vec![warmup, decay], vec![c.warmup_steps]).init()
    };
    built.map_err(|e| PretrainError::Invalid(format!("learning-rate schedule: {e}")))
}

/// sha256 of the examples, in order (12 bytes, hex).
fn data_fingerprint(data: &[Example]) -> String {
    let mut h = Sha256::new();
    for ex in data {
        h.update(serde_json::to_vec(ex).expect("examples serialise"));
        h.update(b"\n");
    }
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

impl Pretrainer {
    /// Starts a run: both towers from `files` (loaded twice, so they share no parameter), on
    /// `device` with autodiff.
    pub fn new(config: PretrainConfig, files: ModelFiles, data: Vec<Example>, device: &Device) -> Result<Self, PretrainError> {
        let invalid = |m: String| Err(PretrainError::Invalid(m));
        if data.is_empty() {
            return invalid("no pre-training examples".into());
        }
        if config.steps == 0 || config.batch_size == 0 {
            return invalid("`steps` and `batch_size` must be > 0".into());
        }
        if config.warmup_steps >= config.steps {
            return invalid(format!("`warmup_steps` ({}) must be below `steps` ({})", config.warmup_steps, config.steps));
        }
        let ad = device.clone().autodiff();
        let text = Pretrained::from_files(files.clone(), &ad)?;
        if config.max_length <= text.tokenizer.num_special() {
            return invalid(format!("`max_length` {} leaves no room for text", config.max_length));
        }
        // A model with fewer positions than `max_length` cuts at its own limit.
        let mut config = config;
        config.max_length = config.max_length.min(text.config.max_sequence_length());
        let concept = Pretrained::from_files(files, &ad)?.encoder;
        let model = ConceptModelConfig::new().with_frozen_layers(config.frozen_layers).init_with(text.encoder, concept);
        let clip = (config.grad_clip_norm > 0.0).then_some(GradientClippingConfig::Norm(config.grad_clip_norm));
        let optim = AdamWConfig::new().with_weight_decay(config.weight_decay).with_grad_clipping(clip).init();
        let identity = serde_json::json!({
            "config": serde_json::to_value(&config).expect("config serialises"),
            "model": text.fingerprint,
            "examples": data.len(),
            "data": data_fingerprint(&data),
        });
        Ok(Self {
            scheduler: scheduler(&config)?,
            plan: BatchPlan { examples: data.len(), batch_size: config.batch_size, seed: config.seed },
            encoder_config: text.config,
            tokenizer: text.tokenizer,
            model,
            optim,
            data,
            step: 0,
            device: ad,
            replicas: Vec::new(),
            identity,
            config,
        })
    }

    /// Steps done.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// The run's settings.
    pub fn config(&self) -> &PretrainConfig {
        &self.config
    }

    /// The text tower's shape.
    pub fn encoder_config(&self) -> &EncoderConfig {
        &self.encoder_config
    }

    /// Data-parallel steps over `devices` (more than one; the model stays on the device given to
    /// [`Self::new`], where the optimiser steps). See [`super::parallel`].
    #[cfg(not(target_family = "wasm"))]
    pub fn with_replicas(mut self, devices: &[Device]) -> Self {
        self.replicas = if devices.len() > 1 { devices.iter().map(|d| d.clone().autodiff()).collect() } else { Vec::new() };
        self
    }

    /// Number of devices a step runs on.
    pub fn replicas(&self) -> usize {
        self.replicas.len().max(1)
    }

    /// One optimisation step on the next batch.
    pub async fn step(&mut self) -> Result<StepReport, PretrainError> {
        let pos = self.plan.position(self.step);
        let examples: Vec<&Example> = self.plan.indices(pos).into_iter().map(|i| &self.data[i]).collect();
        // Dropout masks are a function of (seed, step): a resumed run draws the same ones.
        let seed = self.config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(self.step as u64);
        let (value, grads, tokens, concepts) = if self.replicas.len() > 1 {
            #[cfg(not(target_family = "wasm"))]
            {
                let shards = super::parallel::shard_batch(&examples, self, self.replicas.len())?;
                let (loss, grads) = super::parallel::replicated_grads(
                    &self.model,
                    &shards,
                    &self.replicas,
                    &self.device,
                    &self.encoder_config,
                    self.config.pos_weight,
                    seed,
                )?;
                let tokens = shards.iter().map(|s| s.tokens).sum();
                (loss, grads, tokens, shards[0].concepts.len())
            }
            #[cfg(target_family = "wasm")]
            unreachable!("replicas are native only")
        } else {
            let pad = self.encoder_config.pad_token_id as u32;
            let batch = make_batch(&examples, &self.tokenizer, pad, self.config.max_length)?;
            self.device.seed(seed);
            let input = ConceptInput::new(&batch, &self.encoder_config, &self.device);
            let loss = self.model.loss(input, self.config.pos_weight);
            let value = read_f32(loss.clone().detach()).await?[0];
            (value, GradientsParams::from_grads(loss.backward(), &self.model), batch.tokens, batch.concepts.len())
        };
        let lr = self.scheduler.step();
        let base = lr.base();
        self.model = self.optim.step(lr, self.model.clone(), grads);
        self.step += 1;
        Ok(StepReport { step: self.step, loss: value, lr: base, tokens, concepts })
    }

    /// Everything needed to continue later.
    pub fn checkpoint(&self) -> Result<Checkpoint, PretrainError> {
        let err = |what: &str, e: String| PretrainError::checkpoint(format!("step {}", self.step), format!("{what}: {e}"));
        let mut store = BurnpackStore::from_bytes(None);
        self.model.save_into(&mut store).map_err(|e| err("model", e.to_string()))?;
        let model = store.get_bytes().map_err(|e| err("model", e.to_string()))?.to_vec();
        let optimizer = self.optim.into_bytes().map_err(|e| err("optimizer", format!("{e:?}")))?.to_vec();
        let scheduler = self.scheduler.to_record().into_bytes().map_err(|e| err("scheduler", format!("{e:?}")))?.to_vec();
        let state = CheckpointState {
            step: self.step,
            next: self.plan.position(self.step),
            seed: self.config.seed,
            identity: self.identity.clone(),
        };
        Ok(Checkpoint { state, model, optimizer, scheduler })
    }

    /// Continues from `ckpt`, which must come from a run with the same settings, model and data.
    pub fn restore(&mut self, ckpt: Checkpoint) -> Result<(), PretrainError> {
        let at = format!("step {}", ckpt.state.step);
        if ckpt.state.identity != self.identity {
            return Err(PretrainError::checkpoint(
                at,
                format!(
                    "it belongs to another run (saved {}, now {}): use a new output directory",
                    ckpt.state.identity, self.identity
                ),
            ));
        }
        if ckpt.state.step > self.config.steps {
            return Err(PretrainError::checkpoint(at, format!("it is past the run's {} steps", self.config.steps)));
        }
        let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(ckpt.model)));
        let result = self.model.load_from(&mut store).map_err(|e| PretrainError::checkpoint(&at, format!("model: {e}")))?;
        if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
            return Err(PretrainError::checkpoint(&at, format!("model.bpk does not fit the model: {result:?}")));
        }
        let frozen = ConceptModelConfig::new().with_frozen_layers(self.config.frozen_layers);
        self.model = frozen.init_with(self.model.text.clone(), self.model.concept.clone());
        let optim = self.optim.clone();
        self.optim = optim
            .from_bytes(Bytes::from_bytes_vec(ckpt.optimizer))
            .map_err(|e| PretrainError::checkpoint(&at, format!("optimizer: {e:?}")))?;
        let record = LrSchedulerRecord::from_bytes(Bytes::from_bytes_vec(ckpt.scheduler))
            .map_err(|e| PretrainError::checkpoint(&at, format!("scheduler: {e:?}")))?;
        self.scheduler = self.scheduler.clone().load_record(record);
        self.step = ckpt.state.step;
        Ok(())
    }

    /// The text tower, without autodiff (the pre-trained NuNER encoder).
    pub fn text_encoder(&self) -> Encoder {
        self.model.text.valid()
    }

    /// The concept tower, without autodiff.
    pub fn concept_encoder(&self) -> Encoder {
        self.model.concept.valid()
    }

    /// The tokenizer both towers use.
    pub fn tokenizer(&self) -> &NerTokenizer {
        &self.tokenizer
    }
}
