//! Word + position + token-type embeddings, LayerNorm, dropout.
//!
//! Mirrors transformers' `BertEmbeddings` / `RobertaEmbeddings`
//! (src/transformers/models/bert/modeling_bert.py, models/roberta/modeling_roberta.py):
//! the three lookups are summed, then normalised. Position ids are computed on the host
//! ([`crate::encoder::TokenBatch::position_ids`]) so both families share this module.

use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::prelude::*;

/// Shape of the embedding block.
#[derive(Config, Debug)]
pub struct EmbeddingsConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Position-table rows.
    pub max_positions: usize,
    /// Token-type-table rows.
    pub type_vocab_size: usize,
    /// Hidden width.
    pub hidden_size: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Dropout after the LayerNorm (training only). Default 0.1, as BERT.
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl EmbeddingsConfig {
    /// Builds the block with HF's initialisation (normal, std 0.02).
    pub fn init(&self, device: &Device) -> Embeddings {
        let table = |rows| {
            EmbeddingConfig::new(rows, self.hidden_size)
                .with_initializer(Initializer::Normal { mean: 0.0, std: 0.02 })
                .init(device)
        };
        Embeddings {
            word_embeddings: table(self.vocab_size),
            position_embeddings: table(self.max_positions),
            token_type_embeddings: table(self.type_vocab_size),
            layer_norm: LayerNormConfig::new(self.hidden_size)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// The embedding block of a BERT/RoBERTa encoder.
#[derive(Module, Debug)]
pub struct Embeddings {
    /// Token id → vector.
    pub word_embeddings: Embedding,
    /// Position id → vector.
    pub position_embeddings: Embedding,
    /// Segment id → vector.
    pub token_type_embeddings: Embedding,
    /// Normalisation after the sum.
    pub layer_norm: LayerNorm,
    /// Dropout after the normalisation.
    pub dropout: Dropout,
}

impl Embeddings {
    /// Embeds a batch.
    ///
    /// # Shapes
    /// - `input_ids`, `position_ids`, `token_type_ids`: `[batch, seq]`
    /// - output: `[batch, seq, hidden]`
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        position_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
    ) -> Tensor<3> {
        let x = self.word_embeddings.forward(input_ids)
            + self.token_type_embeddings.forward(token_type_ids)
            + self.position_embeddings.forward(position_ids);
        self.dropout.forward(self.layer_norm.forward(x))
    }
}
