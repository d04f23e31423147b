//! Counts for the summary: sentences, annotations, concepts and why things were dropped.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{AnnotatedSentence, SkipReason};

/// Annotation lines of replies that did not become spans, by reason. Never fatal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drops {
    /// Non-blank lines without a `<>` separator ("Here are the entities:").
    pub chatter: u64,
    /// Lines with a separator but no entity or no concept.
    pub malformed: u64,
    /// Entities whose text is not in the sentence.
    pub not_found: u64,
    /// Annotations whose concept is "concept".
    pub generic_concept: u64,
    /// Annotations repeating a (span, concept) already found.
    pub duplicate: u64,
}

impl Drops {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &Drops) {
        self.chatter += other.chatter;
        self.malformed += other.malformed;
        self.not_found += other.not_found;
        self.generic_concept += other.generic_concept;
        self.duplicate += other.duplicate;
    }

    /// Annotations dropped (chatter lines are not annotations and are not counted).
    pub fn annotations(&self) -> u64 {
        self.malformed + self.not_found + self.generic_concept + self.duplicate
    }
}

/// What an output (and its skipped file) holds: recomputed from the files when a run resumes,
/// so it is exact however often the run was stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sentences in the output.
    pub sentences: u64,
    /// Of which with at least one span.
    pub with_spans: u64,
    /// Spans in the output.
    pub spans: u64,
    /// Spans per concept.
    pub concepts: HashMap<String, u64>,
    /// Sentences in the skipped file, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
}

impl Stats {
    /// Counts one output line.
    pub fn add_sentence(&mut self, s: &AnnotatedSentence) {
        self.sentences += 1;
        self.with_spans += u64::from(!s.spans.is_empty());
        self.spans += s.spans.len() as u64;
        for span in &s.spans {
            *self.concepts.entry(span.label.clone()).or_default() += 1;
        }
    }

    /// Counts one skipped sentence.
    pub fn add_skipped(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    /// Number of distinct concepts.
    pub fn distinct_concepts(&self) -> usize {
        self.concepts.len()
    }

    /// The `k` most frequent concepts, most frequent first, ties by name.
    pub fn top_concepts(&self, k: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.concepts.iter().map(|(c, n)| (c.clone(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(k);
        v
    }

    /// Concepts seen exactly once (the long tail the paper describes).
    pub fn singleton_concepts(&self) -> usize {
        self.concepts.values().filter(|&&n| n == 1).count()
    }

    /// Sentences skipped, all reasons.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// The JSON summary: totals, the `top` concepts, skipped sentences by reason.
    pub fn to_json(&self, top: usize) -> serde_json::Value {
        serde_json::json!({
            "sentences": self.sentences,
            "sentences_with_spans": self.with_spans,
            "spans": self.spans,
            "distinct_concepts": self.distinct_concepts(),
            "singleton_concepts": self.singleton_concepts(),
            "skipped": self.skipped,
            "top_concepts": self.top_concepts(top),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotate::AnnotatedSpan;

    #[test]
    fn counts_and_ranks() {
        let span = |l: &str| AnnotatedSpan { start: 0, end: 1, label: l.into(), description: String::new() };
        let mut s = Stats::default();
        s.add_sentence(&AnnotatedSentence {
            id: Some(0),
            text: "a".into(),
            spans: vec![span("b"), span("a"), span("b")],
        });
        s.add_sentence(&AnnotatedSentence { id: Some(1), text: "a".into(), spans: vec![span("c")] });
        s.add_sentence(&AnnotatedSentence { id: Some(2), text: "a".into(), spans: vec![] });
        s.add_skipped(SkipReason::NoAnnotations);
        assert_eq!((s.sentences, s.with_spans, s.spans, s.distinct_concepts()), (3, 2, 4, 3));
        assert_eq!(s.top_concepts(2), vec![("b".into(), 2), ("a".into(), 1)]);
        assert_eq!(s.singleton_concepts(), 2);
        let j = s.to_json(10);
        assert_eq!(j["skipped"]["no_annotations"], 1);
        assert_eq!(j["top_concepts"][0], serde_json::json!(["b", 2]));
        let mut d = Drops { not_found: 1, chatter: 5, ..Default::default() };
        d.add(&Drops { duplicate: 2, ..Default::default() });
        assert_eq!(d.annotations(), 3);
    }
}
