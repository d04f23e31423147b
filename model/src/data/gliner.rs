//! GLiNER / Pile-NER style records: `{"tokenized_text": [words], "ner": [[first, last_inclusive,
//! type], ...]}`, as a JSON array (errors name the 0-based record) or as JSON lines (errors name
//! the line).
//!
//! The format allows nested and overlapping entities; an [`Example`] does not. [`read`] keeps a
//! flat subset — longest span first, then earliest start, then the order given — and reports
//! each dropped span in a warning (in strict mode too: the record itself is valid). Exact
//! duplicates are dropped silently. [`read_nested`] keeps every span.

use serde::Deserialize;
use serde_json::Value;

use super::error::{Collector, DataError};
use super::lines::{numbered, strip_bom};
use super::span::{check_label, Example, Span};
use super::ReadOutcome;

#[derive(Deserialize)]
struct Record {
    tokenized_text: Vec<String>,
    #[serde(default)]
    ner: Vec<(usize, usize, String)>,
}

/// Where a record came from, for messages.
#[derive(Clone, Copy)]
enum At {
    Record(usize),
    Line(usize),
}

impl At {
    fn error(self, name: &str, message: String) -> DataError {
        match self {
            At::Record(i) => DataError::record(name, i, message),
            At::Line(n) => DataError::line(name, n, message),
        }
    }
}

/// Reads GLiNER records into flat examples; see [`super::read_examples`].
pub(crate) fn read(bytes: &[u8], name: &str, lenient: bool) -> Result<ReadOutcome, DataError> {
    read_impl(bytes, name, lenient, true)
}

/// Reads GLiNER records keeping nested and overlapping spans (sorted by start, then end; exact
/// duplicates removed). The examples then pass [`Example::validate`] except for overlaps: for
/// span-level uses such as pre-training on concept annotations, not for BIO tags.
pub fn read_nested(bytes: &[u8], name: &str, lenient: bool) -> Result<ReadOutcome, DataError> {
    read_impl(bytes, name, lenient, false)
}

fn read_impl(bytes: &[u8], name: &str, lenient: bool, flat: bool) -> Result<ReadOutcome, DataError> {
    let mut out = Collector::new(lenient);
    let mut examples = Vec::new();
    let body = strip_bom(bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let mut records: Vec<(At, Result<Value, String>)> = Vec::new();
    if first == Some(&b'[') {
        let all: Vec<Value> = serde_json::from_slice(body)
            .map_err(|e| DataError::line(name, e.line().max(1), format!("invalid JSON: {e}")))?;
        records.extend(all.into_iter().enumerate().map(|(i, v)| (At::Record(i), Ok(v))));
    } else {
        for (n, line) in numbered(bytes) {
            match line {
                Ok(l) if l.trim().is_empty() => {}
                Ok(l) => records.push((At::Line(n), serde_json::from_str(l).map_err(|e| format!("invalid JSON: {e}")))),
                Err(e) => records.push((At::Line(n), Err(e))),
            }
        }
    }
    for (at, value) in records {
        let converted = value.and_then(|v| {
            let r: Record = serde_json::from_value(v).map_err(|e| format!("not a GLiNER record: {e}"))?;
            convert(r, flat)
        });
        match converted {
            Ok((ex, dropped)) => {
                for d in dropped {
                    out.warnings.push(at.error(name, d).to_string());
                }
                examples.push(ex);
            }
            Err(message) => out.reject(at.error(name, message))?,
        }
    }
    Ok(ReadOutcome { examples, warnings: out.warnings })
}

/// The example and the messages for the spans dropped to make it flat.
fn convert(r: Record, flat: bool) -> Result<(Example, Vec<String>), String> {
    let n = r.tokenized_text.len();
    let mut spans = Vec::with_capacity(r.ner.len());
    for (k, (first, last, label)) in r.ner.iter().enumerate() {
        if first > last || *last >= n {
            return Err(format!("ner[{k}] [{first}, {last}, {label:?}] is outside the {n} words"));
        }
        check_label(label).map_err(|e| format!("ner[{k}]: {e}"))?;
        spans.push((*first, last + 1, label.clone()));
    }
    let mut ex = Example::from_words(&r.tokenized_text, &spans)?;
    let mut seen = std::collections::HashSet::new();
    ex.spans.retain(|s| seen.insert((s.start, s.end, s.label.clone())));
    let mut dropped = Vec::new();
    if flat {
        let mut order: Vec<usize> = (0..ex.spans.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(ex.spans[i].end - ex.spans[i].start), ex.spans[i].start));
        let mut kept: Vec<usize> = Vec::new();
        for i in order {
            let s = &ex.spans[i];
            match kept.iter().map(|&j| &ex.spans[j]).find(|k| k.start < s.end && s.start < k.end) {
                Some(k) => dropped.push(format!(
                    "dropped span {:?} [{}, {}) overlapping {:?} [{}, {}) (characters)",
                    s.label, s.start, s.end, k.label, k.start, k.end
                )),
                None => kept.push(i),
            }
        }
        kept.sort_unstable();
        ex.spans = kept.into_iter().map(|i| ex.spans[i].clone()).collect::<Vec<Span>>();
    }
    Ok((ex, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_with_nested_spans() {
        let f = r#"[{"tokenized_text": ["New", "York", "City", "rocks"], "ner": [[0, 1, "City"], [0, 2, "City"], [3, 3, "verb"], [3, 3, "verb"]]}]"#;
        let r = read(f.as_bytes(), "s.json", false).unwrap();
        assert_eq!(r.examples[0].text, "New York City rocks");
        assert_eq!(r.examples[0].spans, vec![Span::new(0, 13, "City"), Span::new(14, 19, "verb")]);
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("s.json: record 0: dropped span \"City\" [0, 8)"), "{:?}", r.warnings);
        let n = read_nested(f.as_bytes(), "s.json", false).unwrap();
        assert_eq!(n.examples[0].spans.len(), 3);
        assert!(n.warnings.is_empty());
    }

    #[test]
    fn errors_name_record_or_line() {
        let f =
            r#"[{"tokenized_text": ["a"], "ner": [[0, 1, "X"]]}, {"tokenized_text": ["b"], "ner": []}, {"ner": []}]"#;
        let e = read(f.as_bytes(), "s.json", false).unwrap_err().to_string();
        assert!(e.starts_with("s.json: record 0: ner[0] [0, 1, \"X\"] is outside the 1 words"), "{e}");
        let r = read(f.as_bytes(), "s.json", true).unwrap();
        assert_eq!((r.examples.len(), r.warnings.len()), (1, 2));
        assert!(r.warnings[1].starts_with("s.json: record 2: not a GLiNER record"));
        let e = read(b"[\n{\"tokenized_text\": [}\n]", "s.json", true).unwrap_err().to_string();
        assert!(e.starts_with("s.json:2: invalid JSON"), "{e}");
        let l = "{\"tokenized_text\": [\"a\"], \"ner\": [[0, 0, \"X\"]]}\n\n{\"tokenized_text\": [\"a\"], \"ner\": [[1, 0, \"X\"]]}\n";
        let e = read(l.as_bytes(), "s.jsonl", false).unwrap_err().to_string();
        assert!(e.starts_with("s.jsonl:3: ner[0]"), "{e}");
    }
}
