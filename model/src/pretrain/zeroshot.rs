//! Zero-shot tagging with the concept tower that pre-training keeps (beyond the paper, which
//! throws the tower away).
//!
//! - A word's vector is the text tower's last hidden state at its first sub-token — the word
//!   features of the few-shot heads ([`FeatureConfig`]) with the last layer only, so long texts
//!   are windowed and offsets stay exact exactly as there.
//! - A type's vector is the concept tower's mean-pooled embedding of its name, exactly as in
//!   training ([`ConceptModel::concept_vectors`]).
//! - `p(word is t) = σ(word · type_t)`, the training objective read as a probability. A word
//!   takes its most probable type when that probability reaches `threshold`; consecutive words
//!   of one type form one span (the objective has no notion of entity boundaries, so two
//!   adjacent entities of one type merge). A span's score is its words' mean probability.
//!
//! The decoding goes through the few-shot path's [`decode_spans`] by writing each word's
//! probabilities as a tag row (`O`, `B-t`, `I-t`): `B-t` when the previous word's best type
//! differs, `I-t` when it continues it.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use burn::tensor::TensorData;

use crate::data::Span;
use crate::decode::decode_spans;
use crate::embed::read_f32;
use crate::encoder::TokenBatch;
use crate::error::{ModelError, Result};
use crate::heads::features::{word_features, FeatureConfig, Pooling};
use crate::heads::LabelSet;
use crate::tokenize::words::{segment, Segmentation};
use crate::Pretrained;

use super::batch::{pad_masks, wrap};
use super::model::ConceptModel;

/// A pre-trained text tower and its concept tower.
#[derive(Debug)]
pub struct ZeroShot {
    /// The text tower (what `nuner pretrain` writes at the top of its output directory).
    pub text: Pretrained,
    /// The concept tower (`OUT/concept_tower/`).
    pub concept: Pretrained,
}

impl ZeroShot {
    /// One vector per type name.
    ///
    /// # Shapes
    /// - output: `[names, hidden]`
    pub fn type_vectors(&self, names: &[String], device: &Device) -> Result<Tensor<2>> {
        if names.is_empty() {
            return Err(ModelError::Invalid("no entity types given".into()));
        }
        let tok = &self.concept.tokenizer;
        let (mut rows, mut masks) = (Vec::new(), Vec::new());
        for name in names {
            let t = tok.tokenize(name)?;
            if t.ids.is_empty() {
                return Err(ModelError::Invalid(format!("the type name {name:?} has no tokens")));
            }
            let (ids, mask) = wrap(tok, &t.ids);
            rows.push(ids);
            masks.push(mask);
        }
        let batch = TokenBatch::right_padded(&rows, self.concept.config.pad_token_id as u32);
        let mask = Tensor::<2>::from_data(TensorData::new(pad_masks(masks, batch.seq), [names.len(), batch.seq]), device);
        let towers = ConceptModel { text: self.text.encoder.clone(), concept: self.concept.encoder.clone() };
        Ok(towers.concept_vectors(batch.to_input(&self.concept.config, device), mask))
    }

    /// Spans of `types` in each text (character offsets, words cut as UAX #29), with scores.
    pub async fn tag(&self, texts: &[&str], types: &[String], threshold: f32, device: &Device) -> Result<Vec<Vec<Span>>> {
        let units: Vec<Vec<(usize, usize)>> = texts.iter().map(|t| segment(t, Segmentation::Unicode)).collect();
        self.tag_units(texts, &units, types, threshold, device).await
    }

    /// As [`Self::tag`] over given word units (e.g. a dataset's own tokens).
    pub async fn tag_units(
        &self,
        texts: &[&str],
        units: &[Vec<(usize, usize)>],
        types: &[String],
        threshold: f32,
        device: &Device,
    ) -> Result<Vec<Vec<Span>>> {
        let labels = LabelSet::new(types.iter().cloned());
        // LabelSet sorts its types: embed the names in its order.
        let names = labels.types().to_vec();
        let vectors = self.type_vectors(&names, device)?;
        let config = FeatureConfig { layers: vec![self.text.config.num_hidden_layers], pooling: Pooling::First };
        let features = word_features(&self.text, texts, units, &config, device, 64, &mut |_, _| {}).await?;
        // One matmul over every word of every text, one readback (as `tag_probabilities`).
        let rows: usize = features.iter().map(|f| f.units.len()).sum();
        if rows == 0 {
            return Ok(features.iter().map(|_| Vec::new()).collect());
        }
        let dim = features[0].dim;
        let x: Vec<f32> = features.iter().flat_map(|f| f.values.iter().copied()).collect();
        let words = Tensor::<2>::from_data(TensorData::new(x, [rows, dim]), device);
        let probs = read_f32(sigmoid(words.matmul(vectors.transpose()))).await?;
        let mut out = Vec::with_capacity(texts.len());
        let mut at = 0;
        for f in &features {
            let n = f.units.len() * names.len();
            out.push(decode_spans(&tag_rows(&probs[at..at + n], names.len(), threshold), &f.units, &labels));
            at += n;
        }
        Ok(out)
    }
}

/// Per-word type probabilities `[words × types]` → tag rows `[words × (2 types + 1)]` in
/// [`LabelSet`] order, so that the arg-max of a row is the word's tag.
pub fn tag_rows(probs: &[f32], types: usize, threshold: f32) -> Vec<f32> {
    let mut rows = Vec::with_capacity(probs.len() / types.max(1) * (2 * types + 1));
    let mut previous: Option<usize> = None;
    for word in probs.chunks(types) {
        let (best, p) = word.iter().copied().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, p)| if p > b.1 { (i, p) } else { b });
        let mut row = vec![0.0; 2 * types + 1];
        if p >= threshold {
            let inside = previous == Some(best);
            // The tag wins the row whatever the threshold (O stays 0).
            row[2 * best + if inside { 2 } else { 1 }] = p;
            previous = Some(best);
        } else {
            row[0] = 1.0;
            previous = None;
        }
        rows.extend(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_start_continue_and_stop_spans() {
        // Two types; words: t1, t1, none, t0, t1 (a threshold under 0.5 still tags).
        let probs = [0.1, 0.9, 0.2, 0.8, 0.3, 0.2, 0.95, 0.1, 0.2, 0.4];
        let rows = tag_rows(&probs, 2, 0.35);
        let best: Vec<usize> = rows
            .chunks(5)
            .map(|r| r.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, &p)| if p > b.1 { (i, p) } else { b }).0)
            .collect();
        // O=0, B-t0=1, I-t0=2, B-t1=3, I-t1=4
        assert_eq!(best, vec![3, 4, 0, 1, 3]);
    }
}
