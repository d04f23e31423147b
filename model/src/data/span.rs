//! The canonical annotation: a text and its labelled character spans.

use serde::{Deserialize, Serialize};

/// A labelled span of a text: `[start, end)` in CHARACTER (Unicode scalar) offsets, as Python
/// string indices and spaCy/Prodigy offsets count. JSON: `{"start": 0, "end": 5, "label": "PER"}`
/// plus `"score"` when a model produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// First character of the span.
    pub start: usize,
    /// One past its last character.
    pub end: usize,
    /// Entity type.
    pub label: String,
    /// Confidence of a predicted span; `None` for gold annotations (and omitted from JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

impl Span {
    /// A gold span (no score).
    pub fn new(start: usize, end: usize, label: impl Into<String>) -> Self {
        Self { start, end, label: label.into(), score: None }
    }
}

/// A text with non-overlapping labelled spans, sorted by start: one JSON line
/// `{"text": "...", "spans": [...]}` (other fields of spaCy/Prodigy lines are ignored on reading).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// The text.
    pub text: String,
    /// Its spans, sorted by start (missing in JSON = none).
    #[serde(default)]
    pub spans: Vec<Span>,
}

impl Example {
    /// An example with its spans sorted by (start, end).
    pub fn new(text: impl Into<String>, mut spans: Vec<Span>) -> Self {
        sort_spans(&mut spans);
        Self { text: text.into(), spans }
    }

    /// Joins `words` with single spaces and turns word-level spans `(first, last_exclusive,
    /// label)` into character spans. Errors name the span when it is empty, outside the words or
    /// covers only empty words. Spans are sorted; overlaps are kept (see [`Example::validate`]).
    pub fn from_words<S: AsRef<str>>(words: &[S], word_spans: &[(usize, usize, String)]) -> Result<Self, String> {
        let mut text = String::new();
        let mut ranges = Vec::with_capacity(words.len());
        let mut pos = 0;
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                text.push(' ');
                pos += 1;
            }
            let w = w.as_ref();
            let n = w.chars().count();
            text.push_str(w);
            ranges.push((pos, pos + n));
            pos += n;
        }
        let mut spans = Vec::with_capacity(word_spans.len());
        for (first, last, label) in word_spans {
            if first >= last || *last > words.len() {
                return Err(format!(
                    "span of words [{first}, {last}) {label:?} is empty or outside the {} words",
                    words.len()
                ));
            }
            let (start, end) = (ranges[*first].0, ranges[*last - 1].1);
            if start >= end {
                return Err(format!("span of words [{first}, {last}) {label:?} covers no text"));
            }
            spans.push(Span::new(start, end, label.clone()));
        }
        Ok(Self::new(text, spans))
    }

    /// Checks that every span lies inside the text, is non-empty, has a usable label (non-empty,
    /// no control characters, no surrounding whitespace), that spans are sorted by start and
    /// that none overlaps the next. The message names the offending span.
    pub fn validate(&self) -> Result<(), String> {
        let len = self.text.chars().count();
        let mut prev: Option<&Span> = None;
        for (i, s) in self.spans.iter().enumerate() {
            if s.start >= s.end {
                return Err(format!("span {i} [{}, {}) {:?} is empty", s.start, s.end, s.label));
            }
            if s.end > len {
                return Err(format!(
                    "span {i} [{}, {}) {:?} ends after the text ({len} characters)",
                    s.start, s.end, s.label
                ));
            }
            check_label(&s.label).map_err(|e| format!("span {i} [{}, {}): {e}", s.start, s.end))?;
            if let Some(p) = prev {
                if s.start < p.start {
                    return Err(format!(
                        "spans are not sorted by start (span {i} starts at {} after {})",
                        s.start, p.start
                    ));
                }
                if s.start < p.end {
                    return Err(format!(
                        "span {i} [{}, {}) {:?} overlaps span {} [{}, {}) {:?}",
                        s.start,
                        s.end,
                        s.label,
                        i - 1,
                        p.start,
                        p.end,
                        p.label
                    ));
                }
            }
            prev = Some(s);
        }
        Ok(())
    }

    /// The text of a span (`None` if it is out of bounds).
    pub fn span_text(&self, span: &Span) -> Option<String> {
        char_slice(&self.text, span.start, span.end)
    }
}

/// Sorts spans by (start, end), keeping the given order of ties.
pub fn sort_spans(spans: &mut [Span]) {
    spans.sort_by_key(|s| (s.start, s.end));
}

/// Characters `[start, end)` of `text`, or `None` if out of bounds or empty-inverted.
pub fn char_slice(text: &str, start: usize, end: usize) -> Option<String> {
    if start > end {
        return None;
    }
    let s: String = text.chars().skip(start).take(end - start).collect();
    (s.chars().count() == end - start).then_some(s)
}

/// A label must be non-empty, free of control characters (tabs, newlines) and not start or end
/// with whitespace, so that it survives a CoNLL line.
pub fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("empty label".into());
    }
    if label.chars().any(char::is_control) {
        return Err(format!("label {label:?} contains a control character"));
    }
    if label.trim() != label {
        return Err(format!("label {label:?} starts or ends with whitespace"));
    }
    Ok(())
}

/// Character ranges `[start, end)` of the whitespace-separated words of `text` (whitespace as
/// Rust's `char::is_whitespace` and Python's `str.split()` mostly agree on: Unicode White_Space).
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut n = 0;
    for (i, c) in text.chars().enumerate() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
        n = i + 1;
    }
    if let Some(s) = start {
        out.push((s, n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_char_ranges() {
        assert_eq!(words(""), vec![]);
        assert_eq!(words("   "), vec![]);
        assert_eq!(words("a bc"), vec![(0, 1), (2, 4)]);
        assert_eq!(words("  héllo\t\u{3000}世界 🙂 "), vec![(2, 7), (9, 11), (12, 13)]);
    }

    #[test]
    fn from_words_joins_with_spaces() {
        let ex = Example::from_words(&["New", "York", "is", "big"], &[(0, 2, "LOC".into())]).unwrap();
        assert_eq!(ex.text, "New York is big");
        assert_eq!(ex.spans, vec![Span::new(0, 8, "LOC")]);
        assert_eq!(ex.span_text(&ex.spans[0]).as_deref(), Some("New York"));
        assert!(Example::from_words(&["a"], &[(0, 2, "X".into())]).is_err());
        assert!(Example::from_words(&["", "b"], &[(0, 1, "X".into())]).is_err());
    }

    #[test]
    fn validate_names_the_span() {
        let ok = Example::new("Anna met Bob", vec![Span::new(9, 12, "PER"), Span::new(0, 4, "PER")]);
        assert_eq!(ok.spans[0].start, 0);
        ok.validate().unwrap();
        let e = |spans| Example { text: "Anna met Bob".into(), spans }.validate().unwrap_err();
        assert!(e(vec![Span::new(3, 3, "X")]).contains("empty"));
        assert!(e(vec![Span::new(9, 13, "X")]).contains("ends after the text"));
        assert!(e(vec![Span::new(0, 4, "X"), Span::new(3, 6, "Y")]).contains("overlaps span 0"));
        assert!(e(vec![Span::new(5, 8, "X"), Span::new(0, 4, "Y")]).contains("not sorted"));
        assert!(e(vec![Span::new(0, 4, "a\tb")]).contains("control"));
        assert!(e(vec![Span::new(0, 4, "")]).contains("empty label"));
    }

    #[test]
    fn serde_shape() {
        let ex = Example::new("Hi Bo", vec![Span::new(3, 5, "PER")]);
        let json = serde_json::to_string(&ex).unwrap();
        assert_eq!(json, r#"{"text":"Hi Bo","spans":[{"start":3,"end":5,"label":"PER"}]}"#);
        let scored: Span = serde_json::from_str(r#"{"start":1,"end":2,"label":"X","score":0.5}"#).unwrap();
        assert_eq!(scored.score, Some(0.5));
        let bare: Example = serde_json::from_str(r#"{"text":"x","meta":1}"#).unwrap();
        assert!(bare.spans.is_empty());
    }
}
