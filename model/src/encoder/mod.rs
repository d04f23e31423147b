//! The BERT/RoBERTa encoder: embeddings, then a stack of post-LN transformer layers.
//!
//! `forward` returns every hidden state (the embeddings output and each layer's output),
//! because NuNER's token features concatenate the last layer with the one six below it.

mod embeddings;
mod input;
pub mod kernels;
mod layer;

pub use embeddings::{Embeddings, EmbeddingsConfig};
pub use input::{EncoderInput, TokenBatch};
pub use layer::{EncoderLayer, EncoderLayerConfig, SelfAttention};

use burn::prelude::*;

use crate::config::EncoderConfig;

impl EncoderConfig {
    /// Builds a randomly initialised encoder of this shape (load weights with [`crate::weights`]).
    pub fn init(&self, device: &Device) -> Encoder {
        let embeddings = EmbeddingsConfig::new(
            self.vocab_size,
            self.max_position_embeddings,
            self.type_vocab_size,
            self.hidden_size,
            self.layer_norm_eps,
        )
        .with_dropout(self.hidden_dropout_prob)
        .init(device);
        let layer = EncoderLayerConfig::new(
            self.hidden_size,
            self.num_attention_heads,
            self.intermediate_size,
            self.layer_norm_eps,
            self.hidden_act,
        )
        .with_dropout(self.hidden_dropout_prob);
        let layers = (0..self.num_hidden_layers).map(|_| layer.init(device)).collect();
        Encoder { embeddings, layers, num_heads: self.num_attention_heads }
    }
}

/// A BERT or RoBERTa encoder (the family only changes how position ids are made).
#[derive(Module, Debug)]
pub struct Encoder {
    /// Token, position and segment embeddings.
    pub embeddings: Embeddings,
    /// The transformer layers, bottom first.
    pub layers: Vec<EncoderLayer>,
    /// Attention heads per layer.
    pub num_heads: usize,
}

/// Every hidden state of one forward pass.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// `layers + 1` tensors of `[batch, seq, hidden]`: index 0 is the embeddings output,
    /// index `i` the output of layer `i`.
    pub hidden_states: Vec<Tensor<3>>,
}

impl EncoderOutput {
    /// The last layer's output, `[batch, seq, hidden]`.
    pub fn last_hidden_state(&self) -> Tensor<3> {
        self.hidden_states.last().expect("at least the embeddings output").clone()
    }
}

impl Encoder {
    /// Runs the encoder.
    ///
    /// # Shapes
    /// - every tensor of `input`: `[batch, seq]`
    /// - output: `layers + 1` hidden states of `[batch, seq, hidden]`
    ///
    /// On the CPU, the pass runs with the thread pool kept awake ([`kernels::with_pool_awake`]).
    pub fn forward(&self, input: EncoderInput) -> EncoderOutput {
        let device = input.input_ids.device();
        kernels::with_pool_awake(&device, || self.forward_pass(input))
    }

    fn forward_pass(&self, input: EncoderInput) -> EncoderOutput {
        let pad_mask = self.pad_mask(input.attention_mask);
        let x = self.embeddings.forward(input.input_ids, input.position_ids, input.token_type_ids);
        let mut hidden_states = Vec::with_capacity(self.layers.len() + 1);
        hidden_states.push(x.clone());
        hidden_states.extend(self.forward_layers(x, &pad_mask, 0..self.layers.len()));
        EncoderOutput { hidden_states }
    }

    /// The attention mask that [`Self::forward_layers`] takes: true where a key is padding.
    ///
    /// # Shapes
    /// - `attention_mask`: `[batch, seq]`, 1 for real tokens
    /// - output: `[batch, heads, seq, seq]`
    pub fn pad_mask(&self, attention_mask: Tensor<2, Int>) -> Tensor<4, Bool> {
        let [batch, seq] = attention_mask.dims();
        attention_mask.equal_elem(0).reshape([batch, 1, 1, seq]).expand([batch, self.num_heads, seq, seq])
    }

    /// Runs layers `range` on `x`, the hidden state that enters layer `range.start`
    /// (`hidden_states[range.start]` of [`Self::forward`]); returns each layer's output.
    /// Lets a caller cache the output of frozen bottom layers and train only the top ones.
    ///
    /// # Shapes
    /// - `x`: `[batch, seq, hidden]`; `pad_mask`: `[batch, heads, seq, seq]`
    /// - output: `range.len()` tensors of `[batch, seq, hidden]`
    pub fn forward_layers(&self, mut x: Tensor<3>, pad_mask: &Tensor<4, Bool>, range: std::ops::Range<usize>) -> Vec<Tensor<3>> {
        let mut out = Vec::with_capacity(range.len());
        for layer in &self.layers[range] {
            x = layer.forward(x, pad_mask.clone());
            out.push(x.clone());
        }
        out
    }

    /// Number of transformer layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }
}
