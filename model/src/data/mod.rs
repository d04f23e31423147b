//! The data layer of few-shot NER: annotated examples, their BIO tags, and the files they come
//! in. Pure Rust, no tensors; readers take bytes and a name for messages, never a path.
//!
//! The canonical annotation is an [`Example`]: a text and its labelled, non-overlapping
//! CHARACTER spans. BIO tags are derived from spans over some tokens ([`spans_to_tags`]) and
//! decoded back ([`tags_to_spans`]); the model never goes from tags to spans except to decode
//! its own predictions.
//!
//! | [`Format`] | file | example text |
//! |---|---|---|
//! | `Conll` | `TOKEN ... TAG` (or `TAG TOKEN`), blank line between sentences, IOB1/IOB2 | tokens joined by spaces |
//! | `Jsonl` | `{"text": ..., "spans": [{"start", "end", "label"}]}` per line | as given |
//! | `Gliner` | `{"tokenized_text": [...], "ner": [[first, last_incl, type]]}`, array or lines | words joined by spaces |
//!
//! A malformed line or record is a [`DataError`] naming the file and line (or record); a
//! lenient read skips the bad sentence or record and keeps the same text as a warning.
//! No input makes a reader panic.

pub mod bio;
pub mod conll;
pub mod error;
pub mod gliner;
pub mod jsonl;
mod lines;
pub mod span;

pub use bio::{spans_to_tags, spans_to_tags_lossy, tags_to_spans, AlignError, BadTag, Tag};
pub use conll::{write_conll, ConllOptions, LabelColumn, Scheme};
pub use error::DataError;
pub use jsonl::write_jsonl;
pub use span::{words, Example, Span};

/// A file format, with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CoNLL-style token-per-line files.
    Conll(ConllOptions),
    /// JSON lines of [`Example`]s.
    Jsonl,
    /// GLiNER records (JSON array or JSON lines).
    Gliner,
}

/// The examples read from a file, and the warnings met on the way (skipped lines in lenient
/// mode, spans dropped to flatten GLiNER records, repaired IOB2 tags).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOutcome {
    /// Examples, in file order.
    pub examples: Vec<Example>,
    /// Messages of the form `file:line: ...` (or `file: record N: ...`).
    pub warnings: Vec<String>,
}

/// Guesses the format from the content, the name breaking ties for an empty file.
///
/// Content starting with `[` followed by `{` or `]` is GLiNER; with `{` followed by `"` or `}`
/// it is JSON lines — GLiNER if the first line has a `"tokenized_text"` key, else examples;
/// anything else is CoNLL with automatic scheme and label column.
pub fn detect_format(bytes: &[u8], name: &str) -> Format {
    let body = lines::strip_bom(bytes);
    let mut it = body.iter().copied().filter(|b| !b.is_ascii_whitespace());
    let lower = name.to_ascii_lowercase();
    match (it.next(), it.next()) {
        (Some(b'['), Some(b'{' | b']')) => Format::Gliner,
        (Some(b'{'), Some(b'"' | b'}')) => {
            let first_line = body.split(|&b| b == b'\n').find(|l| l.iter().any(|b| !b.is_ascii_whitespace()));
            let gliner = serde_json::from_slice::<serde_json::Value>(first_line.unwrap_or_default())
                .ok()
                .is_some_and(|v| v.get("tokenized_text").is_some());
            if gliner {
                Format::Gliner
            } else {
                Format::Jsonl
            }
        }
        (None, _) if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") => Format::Jsonl,
        (None, _) if lower.ends_with(".json") => Format::Gliner,
        _ => Format::Conll(ConllOptions::default()),
    }
}

/// Reads a file of annotated examples. `name` only labels messages (`name:line: ...`).
///
/// With `lenient = false` the first malformed line or record is the error; with `lenient =
/// true` the sentence (CoNLL), line (JSON lines) or record (GLiNER) holding it is skipped and
/// the error's text is pushed to the warnings. A JSON array that is not valid JSON cannot be
/// split into records and is an error in both modes.
pub fn read_examples(bytes: &[u8], name: &str, format: Format, lenient: bool) -> Result<ReadOutcome, DataError> {
    match format {
        Format::Conll(opts) => conll::read(bytes, name, opts, lenient),
        Format::Jsonl => jsonl::read(bytes, name, lenient),
        Format::Gliner => gliner::read(bytes, name, lenient),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        let conll = Format::Conll(ConllOptions::default());
        assert_eq!(detect_format(b"EU NNP I-NP I-ORG\n", "eng.train"), conll);
        assert_eq!(detect_format(b"[\tO\n{\tO\n", "x.json"), conll);
        assert_eq!(detect_format(b"\xEF\xBB\xBF [ {\"tokenized_text\": []}]", "x"), Format::Gliner);
        assert_eq!(detect_format(b"{\"tokenized_text\": [], \"ner\": []}\n", "x.jsonl"), Format::Gliner);
        assert_eq!(detect_format(b"\n{\"text\": \"a\", \"spans\": []}\n", "x.txt"), Format::Jsonl);
        assert_eq!(detect_format(b"", "x.jsonl"), Format::Jsonl);
        assert_eq!(detect_format(b" \n", "x.JSON"), Format::Gliner);
        assert_eq!(detect_format(b"", "x.conll"), conll);
    }
}
