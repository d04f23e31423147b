//! LLM concept annotation, the first step of NuNER: an LLM reads raw sentences and lists every
//! entity it sees with a freely invented type (a "concept") and a short description; the spans
//! are then found in the sentence by string matching (the paper asks for no offsets).
//!
//! The pure steps run anywhere (the browser build too): [`split`] (corpus → sentences with
//! stable ids), [`prompt`] (template → request text), [`parse`] (reply → `entity <> concept <>
//! description` triples), [`spans`] (triples → character spans), [`stats`]. With the `cli`
//! feature, [`client`] talks to any OpenAI-compatible chat-completions server (vLLM, llama.cpp,
//! Ollama, hosted APIs), [`journal`] keeps the output resumable and [`run`] drives N requests
//! in flight.
//!
//! # Output
//!
//! One JSON line per annotated sentence, the format `nuner pretrain` reads:
//!
//! ```json
//! {"id":0,"text":"Anna flew to Paris.","spans":[{"start":13,"end":18,"label":"city","description":"a large town"}]}
//! ```
//!
//! `start`/`end` are CHARACTER offsets (Unicode scalars, as Python indexes strings), `label` is
//! the concept, `id` the sentence's index in the split input ([`split`]). Lines are written in
//! the order replies arrive, not in id order. Spans are sorted by (start, end) and may overlap
//! or nest (an entity inside another, or one entity with two concepts): they are all kept, for
//! pre-training. [`crate::data::read_examples`] with `Format::Jsonl` ignores `id` and
//! `description`, but it requires non-overlapping spans, so it rejects (or, lenient, skips) the
//! lines that have overlaps; read the output with [`read_annotated`], which keeps them all.
//!
//! Sentences that are not annotated go to the skipped file (`OUTPUT.skipped.jsonl`, lines
//! `{"id", "text", "reason", "detail"}`): a reply without a single annotation line, a request
//! the server rejected as invalid (HTTP 400/413/422), or, with
//! [`GenericConcept::DropSentence`], a sentence with a "concept" annotation (the paper's filter).
//!
//! # Resuming
//!
//! The run is identified by the fingerprints of the sentence list and the template, the model
//! name and the matching options, kept in `OUTPUT.meta.json`; a run whose identity differs from
//! an existing, non-empty output is refused with the list of differences. The output and the
//! skipped file are only ever appended to, whole lines at a time (one `write` of complete lines,
//! then `fsync`, per batch of replies), and hold an exclusive lock while a run writes. A run
//! killed at any moment (even SIGKILL during a write) and started again with the same
//! arguments first cuts a trailing partial line off each file, then takes every id present in
//! either file as done and sends only the others. So a sentence whose line was written is
//! never sent again, a sentence is never lost (it is sent again if its line was not complete),
//! and no line is ever duplicated. Deleting the skipped file makes the next run retry those
//! sentences. Details in [`journal`] and [`run`].

pub mod error;
pub mod parse;
pub mod prompt;
pub mod spans;
pub mod split;
pub mod stats;

#[cfg(feature = "cli")]
pub mod client;
#[cfg(feature = "cli")]
pub mod journal;
#[cfg(feature = "cli")]
pub mod run;

use serde::{Deserialize, Serialize};

pub use error::AnnotateError;
pub use parse::{parse_reply, ParsedReply, Triple};
pub use prompt::{Template, DEFAULT_TEMPLATE};
pub use spans::{build_spans, GenericConcept, MatchOptions, Occurrences};
pub use split::{detect_input_format, read_corpus, split_sentences, Corpus, InputFormat, Segmentation};
pub use stats::{Drops, Stats};

use crate::data::{Example, Span};

/// A span found by the LLM: `[start, end)` in characters, its concept and the concept's
/// description. JSON: `{"start", "end", "label", "description"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotatedSpan {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// The concept (entity type), as the LLM wrote it.
    pub label: String,
    /// The LLM's description of the concept (may be empty).
    #[serde(default)]
    pub description: String,
}

/// One output line: a sentence and its (possibly overlapping) spans, sorted by (start, end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotatedSentence {
    /// The sentence's index in the split input (always written by `nuner annotate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    /// The sentence.
    pub text: String,
    /// Its spans.
    #[serde(default)]
    pub spans: Vec<AnnotatedSpan>,
}

impl AnnotatedSentence {
    /// The sentence as an [`Example`] with every span (descriptions dropped). Overlaps are
    /// kept, so the example may fail [`Example::validate`]: for span-level uses such as
    /// pre-training, not for BIO tags.
    pub fn to_example(&self) -> Example {
        Example::new(self.text.clone(), self.spans.iter().map(|s| Span::new(s.start, s.end, s.label.clone())).collect())
    }
}

/// Why a sentence went to the skipped file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The reply had no `entity <> concept` line at all (empty, refused, or malformed).
    NoAnnotations,
    /// The server rejected the request as invalid (HTTP 400, 413 or 422), e.g. too long.
    Rejected,
    /// An annotation had the concept "concept" and [`GenericConcept::DropSentence`] was chosen.
    GenericConcept,
}

/// One line of the skipped file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedSentence {
    /// The sentence's index in the split input.
    pub id: usize,
    /// The sentence.
    pub text: String,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// Details (the server's message, or the start of the reply).
    #[serde(default)]
    pub detail: String,
}

/// What to do with one sentence given the LLM's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Write this line to the output.
    Keep(AnnotatedSentence),
    /// Write this line to the skipped file.
    Skip(SkippedSentence),
}

/// The verdict for sentence `id` given the reply's text, and the annotation lines dropped.
/// A reply with at least one annotation line is kept even if none of its entities matched
/// (the line then has no spans); one with none is skipped.
pub fn annotate_reply(id: usize, sentence: &str, reply: &str, opts: &MatchOptions) -> (Verdict, Drops) {
    let parsed = parse_reply(reply);
    let (spans, mut drops) = build_spans(sentence, &parsed.triples, opts);
    drops.chatter = parsed.chatter;
    drops.malformed = parsed.malformed;
    let skip =
        |reason, detail: String| Verdict::Skip(SkippedSentence { id, text: sentence.to_string(), reason, detail });
    let verdict = if parsed.triples.is_empty() {
        skip(SkipReason::NoAnnotations, excerpt(reply, 200))
    } else if opts.generic == GenericConcept::DropSentence && drops.generic_concept > 0 {
        skip(SkipReason::GenericConcept, String::new())
    } else {
        Verdict::Keep(AnnotatedSentence { id: Some(id), text: sentence.to_string(), spans })
    };
    (verdict, drops)
}

/// The first `max` characters of `s`, with an ellipsis if cut.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// Reads annotation lines (the output of `nuner annotate`), keeping overlapping spans. Blank
/// lines are skipped; a line that is not an [`AnnotatedSentence`], or whose spans lie outside
/// its text or are empty, is an error naming `name` and the line.
pub fn read_annotated(bytes: &[u8], name: &str) -> Result<Vec<AnnotatedSentence>, AnnotateError> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.push(parse_annotated_line(line).map_err(|message| AnnotateError::Output {
            file: name.to_string(),
            line: i + 1,
            message,
        })?);
    }
    Ok(out)
}

/// One output line, checked.
pub(crate) fn parse_annotated_line(line: &[u8]) -> Result<AnnotatedSentence, String> {
    let s: AnnotatedSentence = serde_json::from_slice(line).map_err(|e| format!("not an annotation line: {e}"))?;
    let len = s.text.chars().count();
    for (k, span) in s.spans.iter().enumerate() {
        if span.start >= span.end || span.end > len {
            return Err(format!(
                "span {k} [{}, {}) is empty or outside the text ({len} characters)",
                span.start, span.end
            ));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{read_examples, Format};

    #[test]
    fn verdicts() {
        let opts = MatchOptions::default();
        let (v, d) =
            annotate_reply(7, "Anna flew to Paris.", "Sure:\n1. Paris <> city <> a town\nBob <> person <> x", &opts);
        let Verdict::Keep(line) = v else { panic!("kept") };
        assert_eq!(line.id, Some(7));
        assert_eq!(
            line.spans,
            vec![AnnotatedSpan { start: 13, end: 18, label: "city".into(), description: "a town".into() }]
        );
        assert_eq!((d.chatter, d.not_found), (1, 1));
        let (v, d) = annotate_reply(1, "Hi.", "I cannot help with that.", &opts);
        assert!(matches!(v, Verdict::Skip(SkippedSentence { reason: SkipReason::NoAnnotations, .. })));
        assert_eq!(d.chatter, 1);
        let paper = MatchOptions { generic: GenericConcept::DropSentence, ..opts };
        let (v, _) = annotate_reply(2, "Hi Bo.", "Bo <> person <> x\nHi <> concept <> y", &paper);
        assert!(matches!(v, Verdict::Skip(SkippedSentence { reason: SkipReason::GenericConcept, .. })));
        let (v, d) = annotate_reply(2, "Hi Bo.", "Bo <> person <> x\nHi <> concept <> y", &opts);
        assert!(matches!(v, Verdict::Keep(ref l) if l.spans.len() == 1));
        assert_eq!(d.generic_concept, 1);
    }

    #[test]
    fn output_lines_are_readable_by_the_data_layer() {
        let flat = r#"{"id":3,"text":"Anna flew to Paris.","spans":[{"start":0,"end":4,"label":"person","description":"a human"},{"start":13,"end":18,"label":"city","description":"a town"}]}"#;
        let nested = r#"{"id":4,"text":"New York City","spans":[{"start":0,"end":8,"label":"state","description":""},{"start":0,"end":13,"label":"city","description":"x"}]}"#;
        let file = format!("{flat}\n\n{nested}\n");
        let ours = read_annotated(file.as_bytes(), "o.jsonl").unwrap();
        assert_eq!(ours.len(), 2);
        assert_eq!(ours[1].to_example().spans.len(), 2);
        let strict = read_examples(flat.as_bytes(), "o.jsonl", Format::Jsonl, false).unwrap();
        assert_eq!(strict.examples[0], ours[0].to_example());
        let lenient = read_examples(file.as_bytes(), "o.jsonl", Format::Jsonl, true).unwrap();
        assert_eq!(lenient.examples.len(), 1, "the data layer skips lines with overlapping spans");
        let e = read_annotated(b"{\"text\":\"ab\",\"spans\":[{\"start\":1,\"end\":3,\"label\":\"x\"}]}", "o.jsonl")
            .unwrap_err();
        assert!(e.to_string().starts_with("o.jsonl:1: span 0 [1, 3)"), "{e}");
    }
}
