//! The few-shot NER pipeline in one place: examples → word units → tags and features →
//! training rows; features → head → tag probabilities → character spans.
//!
//! Everything here is shared by the CLI and the browser worker.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::TensorData;

use crate::data::{spans_to_tags_lossy, Example, Span};
use crate::decode::{best_tags, decode_spans};
use crate::embed::read_f32;
use crate::error::{ModelError, Result};
use crate::heads::{FeatureConfig, Head, LabelSet, WordFeatures};
use crate::pretrained::Pretrained;
use crate::tokenize::words::{segment, Segmentation};
use crate::train::TrainSet;

/// Word units of every example's text.
pub fn units_of(examples: &[Example], how: Segmentation) -> Vec<Vec<(usize, usize)>> {
    examples.iter().map(|e| segment(&e.text, how)).collect()
}

/// Gold tag strings of each example over its units (spans that do not align with unit
/// boundaries are tagged on the units they overlap).
pub fn gold_tags(examples: &[Example], units: &[Vec<(usize, usize)>]) -> Vec<Vec<String>> {
    examples
        .iter()
        .zip(units)
        .map(|(e, u)| spans_to_tags_lossy(&e.spans, u).0.iter().map(ToString::to_string).collect())
        .collect()
}

/// Training rows from examples and their features. Returns the rows and the number of spans
/// that did not align with unit boundaries (tagged on the units they overlap).
pub fn training_rows(examples: &[Example], features: &[WordFeatures], labels: &LabelSet) -> Result<(TrainSet, usize)> {
    let dim = features.first().map_or(0, |f| f.dim);
    let mut set = TrainSet { dim, ..TrainSet::default() };
    let mut misaligned = 0;
    for (e, f) in examples.iter().zip(features) {
        let (ids, bad) = tag_ids(e, &f.units, labels)?;
        misaligned += bad;
        for (i, id) in ids.into_iter().enumerate() {
            set.tags.push(id);
            set.features.extend_from_slice(f.row(i));
        }
    }
    Ok((set, misaligned))
}

/// Tag ids of `example` over `units`, and the number of its spans that do not align with unit
/// boundaries (tagged on the units they overlap).
pub fn tag_ids(example: &Example, units: &[(usize, usize)], labels: &LabelSet) -> Result<(Vec<usize>, usize)> {
    let (tags, bad) = spans_to_tags_lossy(&example.spans, units);
    let ids = tags
        .iter()
        .map(|tag| {
            labels.id(tag).ok_or_else(|| {
                ModelError::Invalid(format!("type {:?} is not among the head's types {:?}", tag.label(), labels.types()))
            })
        })
        .collect::<Result<_>>()?;
    Ok((ids, bad.len()))
}

/// Tag probabilities `[units × tags]` of each text's features.
pub async fn tag_probabilities(head: &Head, features: &[WordFeatures], device: &Device) -> Result<Vec<Vec<f32>>> {
    let Some(dim) = features.iter().map(|f| f.dim).next() else { return Ok(Vec::new()) };
    let rows: usize = features.iter().map(|f| f.units.len()).sum();
    if rows == 0 {
        return Ok(features.iter().map(|_| Vec::new()).collect());
    }
    let x: Vec<f32> = features.iter().flat_map(|f| f.values.iter().copied()).collect();
    let x = Tensor::<2>::from_data(TensorData::new(x, [rows, dim]), device);
    let probs = read_f32(softmax(head.forward(x), 1)).await?;
    let tags = probs.len() / rows;
    let mut out = Vec::with_capacity(features.len());
    let mut at = 0;
    for f in features {
        let n = f.units.len() * tags;
        out.push(probs[at..at + n].to_vec());
        at += n;
    }
    Ok(out)
}

/// Predicted spans and predicted tag strings of each text.
pub fn decode_all(probs: &[Vec<f32>], features: &[WordFeatures], labels: &LabelSet) -> (Vec<Vec<Span>>, Vec<Vec<String>>) {
    probs
        .iter()
        .zip(features)
        .map(|(p, f)| (decode_spans(p, &f.units, labels), best_tags(p, labels)))
        .unzip()
}

/// The sentence whose latency `nuner bench` and the browser's bench page report (18 MiniLM tokens).
pub const LATENCY_SENTENCE: &str = "Barack Obama met Angela Merkel in Berlin on Tuesday to discuss the Paris agreement.";

/// Word features of `texts` cut with `how` (see [`crate::heads::features::word_features`]).
pub async fn features_of(
    model: &Pretrained,
    texts: &[&str],
    how: Segmentation,
    config: &FeatureConfig,
    device: &Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<WordFeatures>> {
    let units: Vec<Vec<(usize, usize)>> = texts.iter().map(|t| segment(t, how)).collect();
    crate::heads::features::word_features(model, texts, &units, config, device, 256, progress).await
}

/// Native: word features computed on `threads` threads, each running whole chunks of texts.
///
/// Parts of a Flex forward pass still run on one core (residual adds, small copies), so two
/// forward passes side by side use a 2-core machine better than one (`nuner bench` measures it).
#[cfg(not(target_family = "wasm"))]
pub fn features_parallel(
    model: &Pretrained,
    texts: &[&str],
    how: Segmentation,
    config: &FeatureConfig,
    device: &Device,
    threads: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<WordFeatures>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    const CHUNK: usize = 64;
    let units: Vec<Vec<(usize, usize)>> = texts.iter().map(|t| segment(t, how)).collect();
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let chunks: Vec<&[usize]> = order.chunks(CHUNK).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<WordFeatures>>> = Mutex::new(vec![None; texts.len()]);
    let first_error: Mutex<Option<ModelError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let c = next.fetch_add(1, Ordering::Relaxed);
                let Some(ids) = chunks.get(c) else { break };
                let batch: Vec<&str> = ids.iter().map(|&i| texts[i]).collect();
                let batch_units: Vec<Vec<(usize, usize)>> = ids.iter().map(|&i| units[i].clone()).collect();
                let mut quiet = |_, _| {};
                let run = crate::heads::features::word_features(model, &batch, &batch_units, config, device, CHUNK, &mut quiet);
                match crate::embed::block_on(run) {
                    Ok(fs) => {
                        let mut r = results.lock().expect("no poisoned lock");
                        for (&i, f) in ids.iter().zip(fs) {
                            r[i] = Some(f);
                        }
                    }
                    Err(e) => {
                        first_error.lock().expect("no poisoned lock").get_or_insert(e);
                        break;
                    }
                }
                progress(done.fetch_add(ids.len(), Ordering::Relaxed) + ids.len(), texts.len());
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("no poisoned lock") {
        return Err(e);
    }
    Ok(results.into_inner().expect("no poisoned lock").into_iter().map(|f| f.expect("every chunk ran")).collect())
}
