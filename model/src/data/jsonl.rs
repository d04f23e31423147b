//! JSON lines of [`Example`]s: `{"text": "...", "spans": [{"start", "end", "label"}]}`, one per
//! line (spaCy/Prodigy style; other fields are ignored). Blank lines are skipped; spans are
//! sorted by start on reading and must then pass [`Example::validate`].

use super::error::{Collector, DataError};
use super::lines::numbered;
use super::span::{sort_spans, Example};
use super::ReadOutcome;

/// Reads JSON lines; see [`super::read_examples`].
pub(crate) fn read(bytes: &[u8], name: &str, lenient: bool) -> Result<ReadOutcome, DataError> {
    let mut out = Collector::new(lenient);
    let mut examples = Vec::new();
    for (n, line) in numbered(bytes) {
        let parsed = line.and_then(|l| {
            if l.trim().is_empty() {
                return Ok(None);
            }
            let mut ex: Example = serde_json::from_str(l).map_err(|e| format!("invalid example JSON: {e}"))?;
            sort_spans(&mut ex.spans);
            ex.validate().map(|()| Some(ex))
        });
        match parsed {
            Ok(Some(ex)) => examples.push(ex),
            Ok(None) => {}
            Err(message) => out.reject(DataError::line(name, n, message))?,
        }
    }
    Ok(ReadOutcome { examples, warnings: out.warnings })
}

/// One JSON object per example, each followed by a newline. Spans keep their order and a
/// `score` when they have one.
pub fn write_jsonl(examples: &[Example]) -> String {
    let mut out = String::new();
    for ex in examples {
        // Serialising strings, integers and finite floats cannot fail; a non-finite score is
        // written as null by serde_json.
        out.push_str(&serde_json::to_string(ex).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Span;

    #[test]
    fn reads_sorts_and_round_trips() {
        let f = "{\"text\":\"Anna met Bob\",\"spans\":[{\"start\":9,\"end\":12,\"label\":\"PER\"},\
                 {\"start\":0,\"end\":4,\"label\":\"PER\",\"score\":0.5}],\"meta\":{}}\r\n\n{\"text\":\"x\"}\n";
        let r = read(f.as_bytes(), "a.jsonl", false).unwrap();
        assert_eq!(r.examples.len(), 2);
        assert_eq!(r.examples[0].spans[0].score, Some(0.5));
        assert_eq!(r.examples[0].spans[1], Span::new(9, 12, "PER"));
        let back = read(write_jsonl(&r.examples).as_bytes(), "b.jsonl", false).unwrap();
        assert_eq!(back.examples, r.examples);
    }

    #[test]
    fn errors_name_the_line() {
        let f = "{\"text\":\"ab\",\"spans\":[]}\n{\"text\":\"ab\",\"spans\":[{\"start\":0,\"end\":3,\"label\":\"X\"}]}\n\
                 {\"text\":\"abc\",\"spans\":[{\"start\":0,\"end\":2,\"label\":\"X\"},{\"start\":1,\"end\":3,\"label\":\"Y\"}]}\n{oops\n";
        let e = read(f.as_bytes(), "d.jsonl", false).unwrap_err().to_string();
        assert!(e.starts_with("d.jsonl:2: span 0 [0, 3)"), "{e}");
        let r = read(f.as_bytes(), "d.jsonl", true).unwrap();
        assert_eq!(r.examples.len(), 1);
        assert_eq!(r.warnings.len(), 3);
        assert!(r.warnings[1].starts_with("d.jsonl:3: span 1 [1, 3) \"Y\" overlaps"), "{:?}", r.warnings);
        assert!(r.warnings[2].starts_with("d.jsonl:4: invalid example JSON"));
    }
}
