//! Per-word features from the frozen encoder: the NuNER recipe.
//!
//! NuNER's model cards concatenate `hidden_states[-1]` and `hidden_states[-7]` — for the 12-layer
//! RoBERTa, the last layer and layer 6, its middle. We keep "last ⊕ middle" for shallower models
//! (MiniLM, 6 layers: layers 6 and 3) and "last ⊕ six below" for 12 layers and more. Each word
//! unit takes the vector of its first sub-token (or the mean of its sub-tokens).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::embed::{embed_texts, EmbedOptions, TextEmbedding};
use crate::error::{ModelError, Result};
use crate::pretrained::Pretrained;

/// How a word's sub-token vectors become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The first sub-token (the paper's protocol).
    #[default]
    First,
    /// The mean of the sub-tokens.
    Mean,
}

/// Which hidden states are concatenated, and how sub-tokens are pooled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Hidden-state indices (0 = embeddings output), concatenated in this order.
    pub layers: Vec<usize>,
    /// Sub-token pooling.
    #[serde(default)]
    pub pooling: Pooling,
}

impl FeatureConfig {
    /// The NuNER recipe for a model with `num_layers` layers (see the module docs).
    pub fn nuner(num_layers: usize) -> Self {
        let below = if num_layers >= 12 { 6 } else { num_layers / 2 };
        let mut layers = vec![num_layers];
        if below > 0 {
            layers.push(num_layers - below);
        }
        Self { layers, pooling: Pooling::First }
    }

    /// Feature width for hidden size `hidden`.
    pub fn dim(&self, hidden: usize) -> usize {
        self.layers.len() * hidden
    }
}

/// One text's word features.
#[derive(Debug, Clone, PartialEq)]
pub struct WordFeatures {
    /// Word units (character ranges) in order.
    pub units: Vec<(usize, usize)>,
    /// Feature width.
    pub dim: usize,
    /// `[units × dim]`, row-major.
    pub values: Vec<f32>,
}

impl WordFeatures {
    /// Feature row of unit `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }
}

/// The tokens each word unit pools: indices into `offsets` (one per token, `None` for special
/// tokens) of the unit's first sub-token, or of all its sub-tokens for [`Pooling::Mean`]. A unit
/// with no sub-token (characters the tokenizer drops, such as a lone zero-width joiner) gets none.
pub fn unit_tokens(offsets: &[Option<(usize, usize)>], units: &[(usize, usize)], pooling: Pooling) -> Vec<Vec<usize>> {
    // Content tokens with a non-empty range, in order.
    let tokens: Vec<(usize, (usize, usize))> =
        offsets.iter().enumerate().filter_map(|(i, o)| o.filter(|(s, t)| s < t).map(|o| (i, o))).collect();
    let mut first = 0;
    let mut out = Vec::with_capacity(units.len());
    for &(us, ue) in units {
        while first < tokens.len() && tokens[first].1 .1 <= us {
            first += 1;
        }
        let mut members: Vec<usize> = tokens[first..]
            .iter()
            .take_while(|(_, (ts, _))| *ts < ue)
            .filter(|(_, (ts, te))| *te > us && *ts < ue)
            .map(|(i, _)| *i)
            .collect();
        if pooling == Pooling::First {
            members.truncate(1);
        }
        out.push(members);
    }
    out
}

/// Pools one embedded text into word features. Units with no sub-token get a zero vector.
pub fn pool_words(e: &TextEmbedding, units: &[(usize, usize)], pooling: Pooling) -> WordFeatures {
    let dim = e.hidden * e.layers.len();
    let mut values = vec![0.0f32; units.len() * dim];
    for (u, picked) in unit_tokens(&e.offsets, units, pooling).iter().enumerate() {
        if picked.is_empty() {
            continue;
        }
        let row = &mut values[u * dim..(u + 1) * dim];
        let scale = 1.0 / picked.len() as f32;
        for &t in picked {
            for (slot, chunk) in row.chunks_mut(e.hidden).enumerate() {
                for (dst, src) in chunk.iter_mut().zip(e.vector(slot, t)) {
                    *dst += src * scale;
                }
            }
        }
    }
    WordFeatures { units: units.to_vec(), dim, values }
}

/// Word features of `texts`, whose units are given. Texts are embedded in length-sorted chunks
/// of `chunk` texts so memory stays bounded; `progress(done, total)` is called after each chunk.
pub async fn word_features(
    model: &Pretrained,
    texts: &[&str],
    units: &[Vec<(usize, usize)>],
    config: &FeatureConfig,
    device: &Device,
    chunk: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<WordFeatures>> {
    if texts.len() != units.len() {
        return Err(ModelError::Invalid(format!("{} texts but {} unit lists", texts.len(), units.len())));
    }
    let options = EmbedOptions { layers: config.layers.clone(), ..EmbedOptions::last(model) };
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let mut out: Vec<Option<WordFeatures>> = vec![None; texts.len()];
    for ids in order.chunks(chunk.max(1)) {
        let batch: Vec<&str> = ids.iter().map(|&i| texts[i]).collect();
        let embedded = embed_texts(model, &batch, &options, device).await?;
        for (&i, e) in ids.iter().zip(&embedded) {
            out[i] = Some(pool_words(e, &units[i], config.pooling));
        }
        progress(out.iter().filter(|o| o.is_some()).count(), texts.len());
    }
    Ok(out.into_iter().map(|o| o.expect("every text embedded")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedding(offsets: Vec<Option<(usize, usize)>>, layers: usize, hidden: usize) -> TextEmbedding {
        let n = offsets.len();
        TextEmbedding {
            tokens: vec![String::new(); n],
            ids: vec![0; n],
            word_ids: vec![None; n],
            offsets,
            layers: (0..layers).collect(),
            hidden,
            // value = 100 * layer + token index
            states: (0..layers).map(|l| (0..n * hidden).map(|i| (100 * l + i / hidden) as f32).collect()).collect(),
        }
    }

    #[test]
    fn nuner_layers() {
        assert_eq!(FeatureConfig::nuner(12).layers, vec![12, 6]);
        assert_eq!(FeatureConfig::nuner(6).layers, vec![6, 3]);
        assert_eq!(FeatureConfig::nuner(24).layers, vec![24, 18]);
        assert_eq!(FeatureConfig::nuner(4).layers, vec![4, 2]);
    }

    #[test]
    fn first_and_mean_pooling_concatenate_layers() {
        // [CLS] "new" "york" "er" [SEP] over "new yorker": units "new" (0,3), "yorker" (4,10)
        let e = embedding(vec![None, Some((0, 3)), Some((4, 8)), Some((8, 10)), None], 2, 2);
        let f = pool_words(&e, &[(0, 3), (4, 10)], Pooling::First);
        assert_eq!(f.dim, 4);
        assert_eq!(f.row(0), [1.0, 1.0, 101.0, 101.0]);
        assert_eq!(f.row(1), [2.0, 2.0, 102.0, 102.0]);
        let m = pool_words(&e, &[(0, 3), (4, 10)], Pooling::Mean);
        assert_eq!(m.row(1), [2.5, 2.5, 102.5, 102.5]);
    }

    #[test]
    fn units_without_tokens_are_zero_and_shared_bytes_are_pooled() {
        // Byte-level BPE: tokens 1 and 2 share a character range; a unit at (5,6) has no token.
        let e = embedding(vec![None, Some((0, 2)), Some((1, 3)), Some((3, 5)), None], 1, 1);
        let f = pool_words(&e, &[(0, 3), (3, 5), (5, 6)], Pooling::Mean);
        assert_eq!(f.values, vec![1.5, 3.0, 0.0]);
    }
}
