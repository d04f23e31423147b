//! Entity chunks from tag strings, exactly as seqeval finds them (seqeval 1.2.2:
//! `seqeval/scheme.py` for strict mode, `seqeval/metrics/sequence_labeling.py::get_entities`
//! for the default, conlleval-compatible mode).

use std::fmt;

/// A tag that seqeval's strict IOB2 mode rejects (it raises), or sequences of unequal lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagProblem {
    /// The tag's first character is not `B`, `I` or `O` (or the tag is empty).
    Invalid {
        /// Which input (`"gold"` or `"pred"`).
        side: &'static str,
        /// 0-based sentence index.
        sentence: usize,
        /// 0-based token index.
        token: usize,
        /// The tag.
        tag: String,
    },
    /// Gold and predicted sentence counts or lengths differ.
    Length(String),
}

impl fmt::Display for TagProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagProblem::Invalid { side, sentence, token, tag } => write!(
                f,
                "{side} sentence {sentence} token {token}: tag {tag:?} is not IOB2 (its first character must be B, I or O)"
            ),
            TagProblem::Length(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for TagProblem {}

/// seqeval's `Token` for IOB2: prefix = first character, type = the rest with `-` stripped
/// from both ends, or `_` if nothing is left.
fn strict_token(tag: &str) -> (Option<char>, &str) {
    let mut chars = tag.chars();
    let prefix = chars.next();
    let rest = chars.as_str().trim_matches('-');
    (prefix, if rest.is_empty() { "_" } else { rest })
}

/// The first tag seqeval's strict IOB2 mode would reject, if any.
pub(crate) fn first_invalid(side: &'static str, seqs: &[Vec<String>]) -> Option<TagProblem> {
    for (sentence, seq) in seqs.iter().enumerate() {
        for (token, tag) in seq.iter().enumerate() {
            if !matches!(strict_token(tag).0, Some('B' | 'I' | 'O')) {
                return Some(TagProblem::Invalid { side, sentence, token, tag: tag.clone() });
            }
        }
    }
    None
}

/// Strict IOB2 entities `(sentence, type, start, end_exclusive)`: a `B-X` followed by the
/// longest run of `I-X` (same type after stripping `-`). An `I-X` that does not continue such
/// a run belongs to no entity. Tags seqeval would reject count as `O` here.
pub(crate) fn strict_entities(seqs: &[Vec<String>]) -> Vec<(usize, String, usize, usize)> {
    let mut out = Vec::new();
    for (sent, seq) in seqs.iter().enumerate() {
        let toks: Vec<(Option<char>, &str)> = seq.iter().map(|t| strict_token(t)).collect();
        let mut i = 0;
        while i < toks.len() {
            let (prefix, ty) = toks[i];
            if prefix != Some('B') {
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < toks.len() && toks[end].0 == Some('I') && toks[end].1 == ty {
                end += 1;
            }
            out.push((sent, ty.to_string(), i, end));
            i = end;
        }
    }
    out
}

/// `get_entities` of seqeval's default mode over all sentences joined with an `O` after each:
/// `(type, start, end_inclusive)` in those joined positions. The state machine below is
/// seqeval's `end_of_chunk` / `start_of_chunk`, rule for rule (including its handling of
/// `E-`, `S-`, `.` and unknown prefixes). An empty tag, where Python would fail, reads as `O`.
pub(crate) fn default_entities(seqs: &[Vec<String>]) -> Vec<(String, usize, usize)> {
    let flat = seqs.iter().flat_map(|s| s.iter().map(String::as_str).chain(["O"])).chain(["O"]);
    let mut chunks = Vec::new();
    let (mut prev_tag, mut prev_type) = ('O', String::new());
    let mut begin = 0;
    for (i, chunk) in flat.enumerate() {
        let mut cs = chunk.chars();
        let tag = cs.next().unwrap_or('O');
        let rest = cs.as_str();
        let ty = match rest.split_once('-') {
            Some((_, after)) => after,
            None => rest,
        };
        let ty = if ty.is_empty() { "_" } else { ty };
        if end_of_chunk(prev_tag, tag, &prev_type, ty) {
            chunks.push((prev_type.clone(), begin, i.saturating_sub(1)));
        }
        if start_of_chunk(prev_tag, tag, &prev_type, ty) {
            begin = i;
        }
        prev_tag = tag;
        prev_type = ty.to_string();
    }
    chunks
}

fn end_of_chunk(prev_tag: char, tag: char, prev_type: &str, ty: &str) -> bool {
    matches!(prev_tag, 'E' | 'S')
        || (matches!(prev_tag, 'B' | 'I') && matches!(tag, 'B' | 'S' | 'O'))
        || (prev_tag != 'O' && prev_tag != '.' && prev_type != ty)
}

fn start_of_chunk(prev_tag: char, tag: char, prev_type: &str, ty: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_type != ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(s: &[&str]) -> Vec<Vec<String>> {
        s.iter().map(|x| x.split_whitespace().map(String::from).collect()).collect()
    }

    #[test]
    fn strict_drops_ill_formed() {
        let e = strict_entities(&seqs(&["B-PER I-PER O I-LOC B-LOC I-PER", "I-X B-X I-X I-X B-Y"]));
        let v = |x: &[(usize, &str, usize, usize)]| {
            x.iter().map(|&(a, b, c, d)| (a, b.to_string(), c, d)).collect::<Vec<_>>()
        };
        assert_eq!(e, v(&[(0, "PER", 0, 2), (0, "LOC", 4, 5), (1, "X", 1, 4), (1, "Y", 4, 5)]));
        // "B-PER-" and "BPER" both have type PER in seqeval's strict Token.
        assert_eq!(strict_entities(&seqs(&["B-PER I-PER- BPER"])), v(&[(0, "PER", 0, 2), (0, "PER", 2, 3)]));
    }

    #[test]
    fn default_is_conlleval_like() {
        // seqeval's docstring example, then repairs of ill-formed I- tags.
        let e = default_entities(&seqs(&["B-PER I-PER O B-LOC"]));
        assert_eq!(e, vec![("PER".into(), 0, 1), ("LOC".into(), 3, 3)]);
        let e = default_entities(&seqs(&["O I-PER I-PER B-LOC I-PER", "I-X"]));
        assert_eq!(e, vec![("PER".into(), 1, 2), ("LOC".into(), 3, 3), ("PER".into(), 4, 4), ("X".into(), 6, 6)]);
    }

    #[test]
    fn invalid_tags_are_found() {
        assert!(first_invalid("gold", &seqs(&["B-X O I-Y"])).is_none());
        let p = first_invalid("pred", &seqs(&["O", "O E-X"])).unwrap();
        assert_eq!(
            p.to_string(),
            "pred sentence 1 token 1: tag \"E-X\" is not IOB2 (its first character must be B, I or O)"
        );
        assert!(first_invalid("gold", &[vec![String::new()]]).is_some());
    }
}
