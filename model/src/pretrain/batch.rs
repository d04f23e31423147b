//! Host-side pre-training batches: sentences → token ids and, for every distinct concept of the
//! batch, which tokens instantiate it; concept names → token ids and a pooling mask. Plus the
//! seeded order in which batches are drawn.
//!
//! Labelling rule: a token is a positive for concept `c` when its character range overlaps a
//! span labelled `c` (so **every** sub-token of a span is a positive); special and padding
//! tokens are masked out of the loss. Sentences longer than `max_length` tokens (special tokens
//! included) are cut: pre-training reads C4-style sentences, and a cut only drops the positives
//! past it.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::data::Example;
use crate::encoder::TokenBatch;
use crate::error::Result;
use crate::tokenize::NerTokenizer;

/// One batch, on the host. `B` sentences padded to `S` tokens, `C` distinct concepts whose names
/// are padded to `Sc` tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptBatch {
    /// `[B, S]` sentence token ids, right-padded.
    pub text: TokenBatch,
    /// `[B * S]`: 1 for a real, non-special token (in the loss), 0 otherwise.
    pub token_mask: Vec<f32>,
    /// The `C` distinct concepts, in order of first appearance.
    pub concepts: Vec<String>,
    /// `[C, Sc]` concept-name token ids (with special tokens), right-padded.
    pub concept_ids: TokenBatch,
    /// `[C * Sc]`: 1 for the name's non-special tokens (mean-pooled), 0 otherwise.
    pub concept_mask: Vec<f32>,
    /// `[B * S * C]`: 1 where token `(b, s)` lies in a span of concept `c`.
    pub targets: Vec<f32>,
    /// Real sentence tokens (special tokens included, padding not), for throughput.
    pub tokens: usize,
}

/// Wraps `ids` in the tokenizer's special tokens; returns the ids and the non-special mask.
pub(crate) fn wrap(tok: &NerTokenizer, ids: &[u32]) -> (Vec<u32>, Vec<f32>) {
    let out = tok.wrap(ids);
    let mut mask = vec![0.0; tok.prefix().len()];
    mask.extend(std::iter::repeat_n(1.0, ids.len()));
    mask.resize(out.len(), 0.0);
    (out, mask)
}

/// Pads `[rows]` masks to the batch's width, row-major.
pub(crate) fn pad_masks(masks: Vec<Vec<f32>>, seq: usize) -> Vec<f32> {
    masks.into_iter().flat_map(|mut m| {
        m.resize(seq, 0.0);
        m
    }).collect()
}

/// Builds the batch of `examples`; `max_length` counts special tokens.
pub fn make_batch(examples: &[&Example], tok: &NerTokenizer, pad_id: u32, max_length: usize) -> Result<ConceptBatch> {
    make_batch_over(examples, tok, pad_id, max_length, Vec::new())
}

/// [`make_batch`] scoring the sentences against `concepts` first, then any other concept of
/// theirs (data-parallel shards of one batch all score the whole batch's concepts).
pub fn make_batch_over(
    examples: &[&Example],
    tok: &NerTokenizer,
    pad_id: u32,
    max_length: usize,
    mut concepts: Vec<String>,
) -> Result<ConceptBatch> {
    let capacity = max_length.saturating_sub(tok.num_special()).max(1);
    let mut rows = Vec::with_capacity(examples.len());
    let mut masks = Vec::with_capacity(examples.len());
    // (row, position in the row, concept index) of every positive.
    let mut positives = Vec::new();
    for (b, ex) in examples.iter().enumerate() {
        let mut t = tok.tokenize(&ex.text)?;
        t.ids.truncate(capacity);
        t.offsets.truncate(capacity);
        let (ids, mask) = wrap(tok, &t.ids);
        for span in &ex.spans {
            let c = match concepts.iter().position(|x| *x == span.label) {
                Some(c) => c,
                None => {
                    concepts.push(span.label.clone());
                    concepts.len() - 1
                }
            };
            for (i, &(s, e)) in t.offsets.iter().enumerate() {
                if s < span.end && span.start < e {
                    positives.push((b, tok.prefix().len() + i, c));
                }
            }
        }
        rows.push(ids);
        masks.push(mask);
    }
    let text = TokenBatch::right_padded(&rows, pad_id);
    let tokens = rows.iter().map(Vec::len).sum();
    let n_concepts = concepts.len();
    let mut targets = vec![0.0; text.batch * text.seq * n_concepts];
    for (b, s, c) in positives {
        targets[(b * text.seq + s) * n_concepts + c] = 1.0;
    }
    let mut name_rows = Vec::with_capacity(n_concepts);
    let mut name_masks = Vec::with_capacity(n_concepts);
    for c in &concepts {
        let mut t = tok.tokenize(c)?;
        t.ids.truncate(capacity);
        let (ids, mask) = wrap(tok, &t.ids);
        name_rows.push(ids);
        name_masks.push(mask);
    }
    let concept_ids = TokenBatch::right_padded(&name_rows, pad_id);
    Ok(ConceptBatch {
        token_mask: pad_masks(masks, text.seq),
        concept_mask: pad_masks(name_masks, concept_ids.seq),
        text,
        concepts,
        concept_ids,
        targets,
        tokens,
    })
}

/// Where a step's batch comes from: epoch `epoch`, batch `index` of that epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataPosition {
    /// Pass over the data (0-based).
    pub epoch: usize,
    /// Batch within the pass (0-based).
    pub index: usize,
}

/// The order of batches: each epoch is a permutation of the examples drawn from
/// `StdRng::seed_from_u64(seed + epoch)`, cut into equal batches (a remainder smaller than a
/// batch is left out of that epoch; a set smaller than one batch is one batch). The batch of a
/// step is a pure function of `(seed, step)`, so a resumed run draws exactly the same batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPlan {
    /// Number of examples.
    pub examples: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Seed of the permutations.
    pub seed: u64,
}

impl BatchPlan {
    /// Batches in one epoch.
    pub fn per_epoch(&self) -> usize {
        (self.examples / self.batch_size.max(1)).max(1)
    }

    /// Where step `step` (0-based) draws its batch.
    pub fn position(&self, step: usize) -> DataPosition {
        DataPosition { epoch: step / self.per_epoch(), index: step % self.per_epoch() }
    }

    /// Example indices of the batch at `pos`.
    pub fn indices(&self, pos: DataPosition) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.examples).collect();
        order.shuffle(&mut StdRng::seed_from_u64(self.seed.wrapping_add(pos.epoch as u64)));
        let size = self.batch_size.max(1).min(self.examples);
        order[pos.index * size..(pos.index + 1) * size].to_vec()
    }
}

