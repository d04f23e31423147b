//! Host-side batches of token ids and their conversion to device tensors.

use burn::prelude::*;
use burn::tensor::TensorData;

use crate::config::{EncoderConfig, ModelType};

/// A right- or left-padded batch of token ids, kept on the host.
///
/// Position ids are derived here, per model family, so the device never runs integer scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBatch {
    /// `[batch * seq]` token ids, row-major.
    pub input_ids: Vec<u32>,
    /// `[batch * seq]`, 1 for a real token, 0 for padding.
    pub attention_mask: Vec<u32>,
    /// Number of rows.
    pub batch: usize,
    /// Padded length of every row.
    pub seq: usize,
}

impl TokenBatch {
    /// Right-pads `rows` with `pad_id` to the longest row.
    pub fn right_padded(rows: &[Vec<u32>], pad_id: u32) -> Self {
        let seq = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut input_ids = Vec::with_capacity(rows.len() * seq);
        let mut attention_mask = Vec::with_capacity(rows.len() * seq);
        for row in rows {
            input_ids.extend_from_slice(row);
            attention_mask.extend(std::iter::repeat_n(1, row.len()));
            input_ids.extend(std::iter::repeat_n(pad_id, seq - row.len()));
            attention_mask.extend(std::iter::repeat_n(0, seq - row.len()));
        }
        Self { input_ids, attention_mask, batch: rows.len(), seq }
    }

    /// Position ids as transformers computes them.
    ///
    /// - BERT: `0..seq` on every row (the `position_ids` buffer).
    /// - RoBERTa: `create_position_ids_from_input_ids` in modeling_roberta.py —
    ///   `cumsum(mask) * mask + padding_idx`, where `mask = input_id != padding_idx`; this holds
    ///   for any padding side.
    pub fn position_ids(&self, config: &EncoderConfig) -> Vec<u32> {
        match config.model_type {
            ModelType::Bert => (0..self.batch).flat_map(|_| 0..self.seq as u32).collect(),
            ModelType::Roberta => {
                let pad = config.pad_token_id as u32;
                let mut out = Vec::with_capacity(self.input_ids.len());
                for row in self.input_ids.chunks(self.seq.max(1)) {
                    let mut count = 0;
                    for &id in row {
                        if id != pad {
                            count += 1;
                            out.push(count + pad);
                        } else {
                            out.push(pad);
                        }
                    }
                }
                out
            }
        }
    }

    /// Uploads the batch to `device`.
    pub fn to_input(&self, config: &EncoderConfig, device: &Device) -> EncoderInput {
        let shape = [self.batch, self.seq];
        let int = |v: Vec<u32>| {
            let v: Vec<i64> = v.into_iter().map(i64::from).collect();
            Tensor::<2, Int>::from_data(TensorData::new(v, shape), device)
        };
        EncoderInput {
            input_ids: int(self.input_ids.clone()),
            attention_mask: int(self.attention_mask.clone()),
            position_ids: int(self.position_ids(config)),
            token_type_ids: Tensor::zeros(shape, device),
        }
    }
}

/// Device tensors for one encoder call.
#[derive(Debug, Clone)]
pub struct EncoderInput {
    /// `[batch, seq]` token ids.
    pub input_ids: Tensor<2, Int>,
    /// `[batch, seq]`, 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor<2, Int>,
    /// `[batch, seq]` position ids.
    pub position_ids: Tensor<2, Int>,
    /// `[batch, seq]` segment ids (zeros for single sentences).
    pub token_type_ids: Tensor<2, Int>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(model_type: ModelType, pad: usize) -> EncoderConfig {
        EncoderConfig {
            model_type,
            vocab_size: 10,
            hidden_size: 4,
            num_hidden_layers: 1,
            num_attention_heads: 1,
            intermediate_size: 4,
            max_position_embeddings: 16,
            type_vocab_size: 1,
            layer_norm_eps: 1e-5,
            hidden_act: crate::config::HiddenAct::Gelu,
            pad_token_id: pad,
            position_embedding_type: "absolute".into(),
            hidden_dropout_prob: 0.1,
        }
    }

    #[test]
    fn pads_right_and_masks() {
        let b = TokenBatch::right_padded(&[vec![5, 6, 7], vec![8]], 1);
        assert_eq!(b.input_ids, vec![5, 6, 7, 8, 1, 1]);
        assert_eq!(b.attention_mask, vec![1, 1, 1, 1, 0, 0]);
    }

    #[test]
    fn roberta_positions_follow_hf_for_both_padding_sides() {
        let c = config(ModelType::Roberta, 1);
        let right = TokenBatch::right_padded(&[vec![0, 5, 2], vec![0, 2]], 1);
        assert_eq!(right.position_ids(&c), vec![2, 3, 4, 2, 3, 1]);
        let left = TokenBatch { input_ids: vec![1, 0, 2], attention_mask: vec![0, 1, 1], batch: 1, seq: 3 };
        assert_eq!(left.position_ids(&c), vec![1, 2, 3]);
    }

    #[test]
    fn bert_positions_are_arange() {
        let c = config(ModelType::Bert, 0);
        let b = TokenBatch::right_padded(&[vec![3, 4], vec![5]], 0);
        assert_eq!(b.position_ids(&c), vec![0, 1, 0, 1]);
    }
}
