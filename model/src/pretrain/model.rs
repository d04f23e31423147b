//! The two towers of NuNER pre-training and their loss.
//!
//! - **Text tower**: the encoder being pre-trained ([`crate::encoder::Encoder`]); a token's
//!   vector is its last hidden state.
//! - **Concept tower**: a second encoder, initialised from the same checkpoint, that maps a
//!   concept name to one vector: the mean of its last hidden states over the name's
//!   non-special tokens (the paper does not say how it pools; mean pooling is what sentence
//!   encoders such as all-MiniLM-L6-v2 use, and `[CLS]` of an un-tuned BERT carries little).
//! - **Logits**: `z[b, s, c] = h[b, s] · e[c]` for every distinct concept `c` of the batch
//!   (in-batch concepts, plain dot product: no projection, no temperature).
//! - **Loss**: sigmoid binary cross-entropy on every (token, concept) pair, special and padding
//!   tokens masked, averaged over the pairs; positives weighted by `pos_weight` as PyTorch's
//!   `BCEWithLogitsLoss(pos_weight=...)`. Burn's `BinaryCrossEntropyLoss` has neither the mask
//!   nor the positive weight, hence [`concept_bce`].
//!
//! The bottom `frozen_layers` layers of the text tower **and its embeddings** are frozen
//! ([`Module::freeze`]: no gradients, no dropout) — the paper freezes RoBERTa-base's bottom 6
//! of 12 for stability; the concept tower is trained whole.

use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::TensorData;

use crate::config::EncoderConfig;
use crate::encoder::{Encoder, EncoderInput};

use super::batch::ConceptBatch;

/// How the two towers are put together.
#[derive(Config, Debug)]
pub struct ConceptModelConfig {
    /// Text-tower layers frozen from the bottom (the embeddings too when > 0). Default `None`
    /// = half the layers, rounded down (6 of RoBERTa-base's 12, as the paper).
    #[config(default = "None")]
    pub frozen_layers: Option<usize>,
}

impl ConceptModelConfig {
    /// Frozen layers for an encoder of `layers` layers.
    pub fn frozen(&self, layers: usize) -> usize {
        self.frozen_layers.unwrap_or(layers / 2).min(layers)
    }

    /// Two randomly initialised towers of shape `encoder` (load weights into them, or use
    /// [`Self::init_with`]).
    pub fn init(&self, encoder: &EncoderConfig, device: &Device) -> ConceptModel {
        self.init_with(encoder.init(device), encoder.init(device))
    }

    /// Puts two loaded encoders together and freezes the text tower's bottom. The towers must
    /// not share parameters (load the checkpoint twice rather than cloning an encoder: the
    /// optimiser keys its state by parameter id).
    pub fn init_with(&self, text: Encoder, concept: Encoder) -> ConceptModel {
        ConceptModel { text: freeze_bottom(text, self.frozen(concept.num_layers())), concept }
    }
}

/// Freezes the embeddings and layers `0..n` of `encoder` (nothing when `n == 0`).
pub fn freeze_bottom(mut encoder: Encoder, n: usize) -> Encoder {
    if n == 0 {
        return encoder;
    }
    encoder.embeddings = encoder.embeddings.freeze();
    encoder.layers = encoder.layers.into_iter().enumerate().map(|(i, l)| if i < n { l.freeze() } else { l }).collect();
    encoder
}

/// Text tower and concept tower.
#[derive(Module, Debug)]
pub struct ConceptModel {
    /// The encoder being pre-trained.
    pub text: Encoder,
    /// Concept names → vectors.
    pub concept: Encoder,
}

/// One batch as device tensors.
#[derive(Debug, Clone)]
pub struct ConceptInput {
    /// Sentences, `[B, S]`.
    pub text: EncoderInput,
    /// `[B, S]`, 1 for tokens in the loss.
    pub token_mask: Tensor<2>,
    /// Concept names, `[C, Sc]`.
    pub concepts: EncoderInput,
    /// `[C, Sc]`, 1 for the name tokens that are pooled.
    pub concept_mask: Tensor<2>,
    /// `[B, S, C]` 0/1 targets.
    pub targets: Tensor<3>,
}

impl ConceptInput {
    /// Uploads a host batch.
    pub fn new(batch: &ConceptBatch, config: &EncoderConfig, device: &Device) -> Self {
        let (b, s) = (batch.text.batch, batch.text.seq);
        let (c, sc) = (batch.concept_ids.batch, batch.concept_ids.seq);
        let float = |v: &[f32], shape: [usize; 2]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), shape), device);
        Self {
            text: batch.text.to_input(config, device),
            token_mask: float(&batch.token_mask, [b, s]),
            concepts: batch.concept_ids.to_input(config, device),
            concept_mask: float(&batch.concept_mask, [c, sc]),
            targets: Tensor::<3>::from_data(TensorData::new(batch.targets.clone(), [b, s, c]), device),
        }
    }
}

impl ConceptModel {
    /// One vector per concept name: mean of the last hidden states over `mask`.
    ///
    /// # Shapes
    /// - `names`: `[C, Sc]`; `mask`: `[C, Sc]`
    /// - output: `[C, hidden]`
    pub fn concept_vectors(&self, names: EncoderInput, mask: Tensor<2>) -> Tensor<2> {
        let states = self.concept.forward(names).last_hidden_state();
        let [c, _, hidden] = states.dims();
        let summed = (states * mask.clone().unsqueeze_dim::<3>(2)).sum_dim(1).reshape([c, hidden]);
        summed / mask.sum_dim(1).clamp_min(1.0)
    }

    /// Token · concept logits.
    ///
    /// # Shapes
    /// - `text`: `[B, S]`; `concepts`: `[C, hidden]`
    /// - output: `[B, S, C]`
    pub fn logits(&self, text: EncoderInput, concepts: Tensor<2>) -> Tensor<3> {
        let h = self.text.forward(text).last_hidden_state();
        let [b, s, hidden] = h.dims();
        let c = concepts.dims()[0];
        h.reshape([b * s, hidden]).matmul(concepts.transpose()).reshape([b, s, c])
    }

    /// The loss of a batch.
    ///
    /// # Shapes
    /// - output: `[1]`
    pub fn loss(&self, input: ConceptInput, pos_weight: f32) -> Tensor<1> {
        let concepts = self.concept_vectors(input.concepts, input.concept_mask);
        let logits = self.logits(input.text, concepts);
        concept_bce(logits, input.targets, input.token_mask, pos_weight)
    }
}

/// Masked, positive-weighted sigmoid binary cross-entropy, averaged over unmasked pairs:
/// `Σ m[b,s] · −(w·y·log σ(z) + (1−y)·log σ(−z)) / (C · Σ m)`.
///
/// # Shapes
/// - `logits`, `targets`: `[B, S, C]`; `mask`: `[B, S]`
/// - output: `[1]`
pub fn concept_bce(logits: Tensor<3>, targets: Tensor<3>, mask: Tensor<2>, pos_weight: f32) -> Tensor<1> {
    let c = logits.dims()[2];
    let pos = log_sigmoid(logits.clone()) * targets.clone() * pos_weight;
    let neg = log_sigmoid(logits.neg()) * (targets.neg() + 1.0);
    let per_pair = (pos + neg).neg() * mask.clone().unsqueeze_dim::<3>(2);
    per_pair.sum() / (mask.sum() * c as f32).clamp_min(1.0)
}

