//! BIO tags over tokens, derived from character spans (and decoded back).
//!
//! Tokens are `[start, end)` character ranges, sorted and disjoint: [`super::words`] of a text,
//! or a tokenizer's offsets. Empty tokens (`start == end`, e.g. special tokens) are allowed
//! anywhere and are always `O`.
//!
//! Decoding ([`tags_to_spans`]) follows conlleval and seqeval's default mode: `B-X` starts an
//! entity; `I-X` continues an entity of type X on the previous token, and otherwise starts one
//! (an `I-X` after `O`, at the start, or after another type is repaired, not dropped). That
//! rule reads IOB2 and IOB1 (where `B-` only separates adjacent entities of one type) alike.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::span::Span;

/// A BIO tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Outside any entity.
    O,
    /// First token of an entity of this type.
    B(String),
    /// Later token of an entity of this type.
    I(String),
}

/// A string that is not `O`, `B-TYPE` or `I-TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("bad tag {0:?} (expected O, B-TYPE or I-TYPE)")]
pub struct BadTag(pub String);

impl Tag {
    /// Parses `O`, `B-TYPE` or `I-TYPE`; TYPE is non-empty, without control characters or
    /// surrounding whitespace (inner spaces are allowed: `B-musical instrument`).
    pub fn parse(s: &str) -> Result<Self, BadTag> {
        if s == "O" {
            return Ok(Tag::O);
        }
        let (make, rest): (fn(String) -> Tag, &str) = if let Some(r) = s.strip_prefix("B-") {
            (Tag::B, r)
        } else if let Some(r) = s.strip_prefix("I-") {
            (Tag::I, r)
        } else {
            return Err(BadTag(s.to_string()));
        };
        if super::span::check_label(rest).is_err() {
            return Err(BadTag(s.to_string()));
        }
        Ok(make(rest.to_string()))
    }

    /// The entity type, `None` for `O`.
    pub fn label(&self) -> Option<&str> {
        match self {
            Tag::O => None,
            Tag::B(l) | Tag::I(l) => Some(l),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::O => f.write_str("O"),
            Tag::B(l) => write!(f, "B-{l}"),
            Tag::I(l) => write!(f, "I-{l}"),
        }
    }
}

impl FromStr for Tag {
    type Err = BadTag;
    fn from_str(s: &str) -> Result<Self, BadTag> {
        Tag::parse(s)
    }
}

/// Spans that cannot be expressed as BIO tags over the given tokens.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct AlignError {
    /// Index (into the `spans` argument) of the span at fault, if one is.
    pub span: Option<usize>,
    /// What is wrong, naming the span and token.
    pub message: String,
}

/// Tags the tokens from the spans: the first token overlapping a span is `B-label`, later
/// overlapping tokens `I-label`, the rest `O`.
///
/// Errors: the tokens are not sorted and disjoint; a span is empty or overlaps another span; a
/// token crosses a span boundary (overlaps the span without lying inside it — the span does not
/// align with the tokens); a span overlaps no token (it covers only whitespace). A span may
/// start or end in whitespace between tokens; decoding then gives the tighter span.
pub fn spans_to_tags(spans: &[Span], tokens: &[(usize, usize)]) -> Result<Vec<Tag>, AlignError> {
    let mut nz: Vec<usize> = Vec::with_capacity(tokens.len());
    for (t, &(a, b)) in tokens.iter().enumerate() {
        if a > b {
            return Err(AlignError { span: None, message: format!("token {t} has start {a} > end {b}") });
        }
        if a == b {
            continue;
        }
        if let Some(&p) = nz.last() {
            if tokens[p].1 > a {
                return Err(AlignError {
                    span: None,
                    message: format!("tokens {p} {:?} and {t} {:?} are not sorted and disjoint", tokens[p], tokens[t]),
                });
            }
        }
        nz.push(t);
    }
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].start, spans[i].end));
    let mut tags = vec![Tag::O; tokens.len()];
    let mut prev: Option<usize> = None;
    for &i in &order {
        let s = &spans[i];
        let err = |message: String| AlignError { span: Some(i), message };
        let what = format!("span {i} [{}, {}) {:?}", s.start, s.end, s.label);
        if s.start >= s.end {
            return Err(err(format!("{what} is empty")));
        }
        if let Some(p) = prev {
            if spans[p].end > s.start {
                return Err(err(format!("{what} overlaps span {p} [{}, {})", spans[p].start, spans[p].end)));
            }
        }
        prev = Some(i);
        let first = nz.partition_point(|&t| tokens[t].1 <= s.start);
        let mut count = 0;
        for &t in nz[first..].iter().take_while(|&&t| tokens[t].0 < s.end) {
            let (a, b) = tokens[t];
            if a < s.start || b > s.end {
                return Err(err(format!(
                    "{what} does not align with the tokens: token {t} [{a}, {b}) crosses its boundary"
                )));
            }
            tags[t] = if count == 0 { Tag::B(s.label.clone()) } else { Tag::I(s.label.clone()) };
            count += 1;
        }
        if count == 0 {
            return Err(err(format!("{what} overlaps no token")));
        }
    }
    Ok(tags)
}

/// Like [`spans_to_tags`] but never fails: a span tags every token it overlaps (even one that
/// crosses its boundary) that no earlier span (by start) has tagged. Returns the tags and the
/// indices of the spans that were not represented exactly (empty, overlapping another span,
/// crossing a token, covering no token, or clashing with an earlier span on a token).
pub fn spans_to_tags_lossy(spans: &[Span], tokens: &[(usize, usize)]) -> (Vec<Tag>, Vec<usize>) {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].start, spans[i].end));
    let mut tags = vec![Tag::O; tokens.len()];
    let mut inexact = Vec::new();
    let mut prev_end = 0;
    for &i in &order {
        let s = &spans[i];
        let mut exact = s.start < s.end && s.start >= prev_end;
        prev_end = prev_end.max(s.end);
        let mut count = 0;
        for (t, &(a, b)) in tokens.iter().enumerate() {
            if a >= b || b <= s.start || a >= s.end {
                continue;
            }
            if a < s.start || b > s.end {
                exact = false;
            }
            if tags[t] != Tag::O {
                exact = false;
                continue;
            }
            tags[t] = if count == 0 { Tag::B(s.label.clone()) } else { Tag::I(s.label.clone()) };
            count += 1;
        }
        if !exact || count == 0 {
            inexact.push(i);
        }
    }
    inexact.sort_unstable();
    (tags, inexact)
}

/// Decodes tags into spans over the tokens (see the module doc for the rule). Only the first
/// `min(tags.len(), tokens.len())` pairs are read; a span runs from its first token's start to
/// its last token's end, and is dropped if that range is empty (empty or unsorted tokens).
pub fn tags_to_spans(tags: &[Tag], tokens: &[(usize, usize)]) -> Vec<Span> {
    let mut spans = Vec::new();
    // (label, first token, last token) of the open entity.
    let mut open: Option<(&str, usize, usize)> = None;
    let close = |open: &mut Option<(&str, usize, usize)>, spans: &mut Vec<Span>| {
        if let Some((label, a, b)) = open.take() {
            let (start, end) = (tokens[a].0, tokens[b].1);
            if start < end {
                spans.push(Span::new(start, end, label));
            }
        }
    };
    for (t, tag) in tags.iter().enumerate().take(tokens.len()) {
        match tag {
            Tag::O => close(&mut open, &mut spans),
            Tag::B(l) => {
                close(&mut open, &mut spans);
                open = Some((l.as_str(), t, t));
            }
            Tag::I(l) => {
                if let Some((label, _, last)) = open.as_mut() {
                    if *label == l.as_str() {
                        *last = t;
                        continue;
                    }
                }
                close(&mut open, &mut spans);
                open = Some((l.as_str(), t, t));
            }
        }
    }
    close(&mut open, &mut spans);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<Tag> {
        s.split_whitespace().map(|t| Tag::parse(t).unwrap()).collect()
    }
    fn toks(n: usize) -> Vec<(usize, usize)> {
        // words of length 2 separated by one space: "aa bb cc ..."
        (0..n).map(|i| (3 * i, 3 * i + 2)).collect()
    }
    fn sp(v: &[(usize, usize, &str)]) -> Vec<Span> {
        v.iter().map(|&(a, b, l)| Span::new(a, b, l)).collect()
    }

    #[test]
    fn parse_and_display() {
        for s in ["O", "B-PER", "I-musical instrument", "B-event_attack/battle"] {
            assert_eq!(Tag::parse(s).unwrap().to_string(), s);
        }
        for s in ["B_PER", "X-LOC", "B-", "o", "", "B- PER", "I-a\tb", "BPER", "E-PER"] {
            let e = Tag::parse(s).unwrap_err();
            assert_eq!(e.to_string(), format!("bad tag {s:?} (expected O, B-TYPE or I-TYPE)"));
        }
        assert_eq!("I-LOC".parse::<Tag>().unwrap().label(), Some("LOC"));
    }

    #[test]
    fn spans_to_tags_marks_b_then_i() {
        let t = spans_to_tags(&sp(&[(3, 8, "PER"), (12, 14, "LOC")]), &toks(5)).unwrap();
        assert_eq!(t, tags("O B-PER I-PER O B-LOC"));
        // Spans may start/end in the gaps between tokens; order of spans does not matter.
        let t = spans_to_tags(&sp(&[(12, 15, "LOC"), (2, 8, "PER")]), &toks(5)).unwrap();
        assert_eq!(t, tags("O B-PER I-PER O B-LOC"));
        // Empty tokens (special tokens) stay O.
        let t = spans_to_tags(&sp(&[(0, 2, "X")]), &[(0, 0), (0, 2), (2, 2)]).unwrap();
        assert_eq!(t, tags("O B-X O"));
    }

    #[test]
    fn spans_to_tags_errors() {
        let e = |s: &[(usize, usize, &str)]| spans_to_tags(&sp(s), &toks(3)).unwrap_err();
        assert!(e(&[(1, 5, "X")]).message.contains("token 0 [0, 2) crosses"));
        assert!(e(&[(3, 4, "X")]).message.contains("crosses"));
        assert!(e(&[(2, 3, "X")]).message.contains("overlaps no token"));
        assert!(e(&[(0, 5, "X"), (3, 8, "Y")]).message.contains("overlaps span"));
        assert!(e(&[(4, 4, "X")]).message.contains("empty"));
        assert_eq!(e(&[(0, 2, "X"), (4, 5, "Y")]).span, Some(1));
        assert!(spans_to_tags(&[], &[(0, 3), (2, 4)]).is_err());
        assert!(spans_to_tags(&[], &[(3, 1)]).is_err());
    }

    #[test]
    fn lossy_expands_and_reports() {
        let (t, bad) = spans_to_tags_lossy(&sp(&[(1, 5, "X"), (6, 8, "Y")]), &toks(3));
        assert_eq!(t, tags("B-X I-X B-Y"));
        assert_eq!(bad, vec![0]);
        let (t, bad) = spans_to_tags_lossy(&sp(&[(0, 5, "X"), (3, 8, "Y")]), &toks(3));
        assert_eq!(t, tags("B-X I-X B-Y"));
        assert_eq!(bad, vec![1]);
    }

    #[test]
    fn decode_repairs_like_conlleval() {
        let d = |s: &str| {
            let t = tags(s);
            tags_to_spans(&t, &toks(t.len()))
                .into_iter()
                .map(|s| (s.start / 3, (s.end + 1) / 3, s.label))
                .collect::<Vec<_>>()
        };
        let v = |x: &[(usize, usize, &str)]| x.iter().map(|&(a, b, l)| (a, b, l.to_string())).collect::<Vec<_>>();
        assert_eq!(d("B-PER I-PER O B-LOC"), v(&[(0, 2, "PER"), (3, 4, "LOC")]));
        assert_eq!(d("I-PER I-PER O"), v(&[(0, 2, "PER")]));
        assert_eq!(d("O I-PER B-PER I-PER"), v(&[(1, 2, "PER"), (2, 4, "PER")]));
        assert_eq!(d("B-PER I-LOC I-LOC"), v(&[(0, 1, "PER"), (1, 3, "LOC")]));
        assert_eq!(d("B-PER B-PER"), v(&[(0, 1, "PER"), (1, 2, "PER")]));
        // IOB1: I- starts, B- separates adjacent same-type entities.
        assert_eq!(d("I-ORG I-ORG B-ORG O I-MISC"), v(&[(0, 2, "ORG"), (2, 3, "ORG"), (4, 5, "MISC")]));
        assert_eq!(d("O O"), v(&[]));
    }

    #[test]
    fn decode_never_panics_on_mismatch() {
        assert_eq!(tags_to_spans(&tags("B-X I-X"), &[(0, 2)]), sp(&[(0, 2, "X")]));
        assert_eq!(tags_to_spans(&tags("B-X"), &[]), vec![]);
        assert_eq!(tags_to_spans(&tags("B-X I-X"), &[(5, 6), (0, 1)]), vec![]);
    }
}
