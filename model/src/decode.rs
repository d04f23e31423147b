//! From tag probabilities over word units to character spans with confidences.
//!
//! The best tag of each unit is taken, the tag sequence is decoded with the same rule as
//! [`crate::data::tags_to_spans`] (an `I-X` that continues nothing starts an entity), and each
//! span's score is the mean probability of the tags that built it.

use crate::data::{tags_to_spans, Span, Tag};
use crate::heads::LabelSet;

/// Decodes one text. `probs` is `[units × num_tags]` row-major (softmax outputs).
pub fn decode_spans(probs: &[f32], units: &[(usize, usize)], labels: &LabelSet) -> Vec<Span> {
    let n_tags = labels.num_tags();
    assert_eq!(probs.len(), units.len() * n_tags, "probabilities do not match units × tags");
    let (tags, best): (Vec<Tag>, Vec<f32>) = probs
        .chunks(n_tags)
        .map(|row| {
            let (id, p) = row
                .iter()
                .copied()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |b, (i, p)| if p > b.1 { (i, p) } else { b });
            (labels.tag(id), p)
        })
        .unzip();
    let mut spans = tags_to_spans(&tags, units);
    for span in &mut spans {
        let inside: Vec<f32> = units
            .iter()
            .zip(&best)
            .filter(|((s, e), _)| *s >= span.start && *e <= span.end)
            .map(|(_, p)| *p)
            .collect();
        span.score = Some(inside.iter().sum::<f32>() / inside.len().max(1) as f32);
    }
    spans
}

/// Tag strings of the best tag of each unit (for metrics).
pub fn best_tags(probs: &[f32], labels: &LabelSet) -> Vec<String> {
    probs
        .chunks(labels.num_tags())
        .map(|row| {
            let id = row.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, &p)| if p > b.1 { (i, p) } else { b }).0;
            labels.tag(id).to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_b_i_repairs_stray_i_and_scores_spans() {
        let labels = LabelSet::new(["LOC", "PER"]); // O B-LOC I-LOC B-PER I-PER
        let units = [(0, 6), (7, 12), (13, 20), (21, 26), (27, 32)];
        let onehot = |id: usize, p: f32| {
            let mut row = vec![(1.0 - p) / 4.0; 5];
            row[id] = p;
            row
        };
        // B-PER I-PER O I-LOC O  → PER over units 0-1, LOC (repaired) over unit 3
        let probs: Vec<f32> = [onehot(3, 0.9), onehot(4, 0.7), onehot(0, 0.99), onehot(2, 0.6), onehot(0, 0.8)].concat();
        let spans = decode_spans(&probs, &units, &labels);
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].start, spans[0].end, spans[0].label.as_str()), (0, 12, "PER"));
        assert!((spans[0].score.unwrap() - 0.8).abs() < 1e-6);
        assert_eq!((spans[1].start, spans[1].end, spans[1].label.as_str()), (21, 26, "LOC"));
        assert_eq!(best_tags(&probs, &labels), ["B-PER", "I-PER", "O", "I-LOC", "O"]);
    }
}
