//! CoNLL-style files: one token per line with its tag in the first or last column, a blank line
//! between sentences, `-DOCSTART-` lines ignored.
//!
//! Columns are split on tabs when the line has one (fields trimmed, so a token may hold inner
//! spaces), else on whitespace. The column count that most lines of the file have is the
//! expected one; a line with another count is malformed. Sentences become [`Example`]s whose
//! text is the tokens joined by single spaces, and tags are decoded by [`tags_to_spans`] (which
//! reads IOB1 and IOB2 alike; see [`super::bio`]).

use std::collections::HashMap;

use super::bio::{spans_to_tags, tags_to_spans, Tag};
use super::error::{Collector, DataError};
use super::lines::numbered;
use super::span::{words, Example};
use super::ReadOutcome;

/// How a CoNLL file encodes entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConllOptions {
    /// Tagging scheme.
    pub scheme: Scheme,
    /// Which column holds the tag.
    pub label: LabelColumn,
}

/// Tagging scheme of a CoNLL file. Both are decoded by the same rule; the scheme decides which
/// tags are reported as repaired: under IOB2 an `I-X` that does not follow `B-X`/`I-X` is
/// ill-formed (read as the start of an entity, and counted in one warning per file); under
/// IOB1 that is how entities start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// `I-` starts entities; `B-` only between adjacent entities of one type (CoNLL-2003).
    Iob1,
    /// Every entity starts with `B-`.
    Iob2,
    /// IOB1 if entities start with `I-` (after `O` or at a sentence start) more often than with
    /// `B-`, else IOB2.
    #[default]
    Auto,
}

/// The column that holds the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelColumn {
    /// `TAG TOKEN ...`
    First,
    /// `TOKEN ... TAG`
    Last,
    /// Whichever of the two parses as a tag on more lines (last on a tie).
    #[default]
    Auto,
}

enum Line<'a> {
    Break,
    Fields(Vec<&'a str>),
    Bad(String),
}

fn fields(line: &str) -> Vec<&str> {
    if line.contains('\t') {
        let mut f: Vec<&str> = line.split('\t').map(str::trim).collect();
        while f.len() > 1 && f.last() == Some(&"") {
            f.pop();
        }
        f
    } else {
        line.split_whitespace().collect()
    }
}

fn classify(line: Result<&str, String>) -> Line<'_> {
    match line {
        Err(e) => Line::Bad(e),
        Ok(l) if l.trim().is_empty() => Line::Break,
        Ok(l) => {
            let f = fields(l);
            let doc = f.first() == Some(&"-DOCSTART-") || (f.len() == 2 && f[1] == "-DOCSTART-");
            if doc {
                Line::Break
            } else {
                Line::Fields(f)
            }
        }
    }
}

/// The most common column count (the earliest seen on a tie).
fn expected_columns(lines: &[(usize, Line)]) -> usize {
    let mut counts: HashMap<usize, (usize, usize)> = HashMap::new();
    for (i, (_, l)) in lines.iter().enumerate() {
        if let Line::Fields(f) = l {
            counts.entry(f.len()).or_insert((0, i)).0 += 1;
        }
    }
    counts.into_iter().max_by_key(|&(_, (n, first))| (n, std::cmp::Reverse(first))).map_or(0, |(c, _)| c)
}

fn resolve_label(label: LabelColumn, lines: &[(usize, Line)], cols: usize) -> LabelColumn {
    if label != LabelColumn::Auto {
        return label;
    }
    let (mut first, mut last) = (0usize, 0usize);
    for (_, l) in lines {
        if let Line::Fields(f) = l {
            if f.len() == cols && cols >= 2 {
                first += Tag::parse(f[0]).is_ok() as usize;
                last += Tag::parse(f[cols - 1]).is_ok() as usize;
            }
        }
    }
    if first > last {
        LabelColumn::First
    } else {
        LabelColumn::Last
    }
}

/// One sentence being read: (line, token, tag) rows, and whether a row was bad.
#[derive(Default)]
struct Sentence<'a> {
    rows: Vec<(usize, &'a str, Tag)>,
    bad: bool,
}

fn flush<'a>(cur: &mut Sentence<'a>, sentences: &mut Vec<Vec<(usize, &'a str, Tag)>>) {
    let s = std::mem::take(cur);
    if !s.bad && !s.rows.is_empty() {
        sentences.push(s.rows);
    }
}

/// Reads a CoNLL file; see [`super::read_examples`].
pub(crate) fn read(bytes: &[u8], name: &str, opts: ConllOptions, lenient: bool) -> Result<ReadOutcome, DataError> {
    let lines: Vec<(usize, Line)> = numbered(bytes).map(|(n, l)| (n, classify(l))).collect();
    let cols = expected_columns(&lines);
    let label = resolve_label(opts.label, &lines, cols);
    let mut out = Collector::new(lenient);
    let mut sentences: Vec<Vec<(usize, &str, Tag)>> = Vec::new();
    let mut cur = Sentence::default();
    for (n, line) in &lines {
        let row = match line {
            Line::Break => {
                flush(&mut cur, &mut sentences);
                continue;
            }
            Line::Bad(e) => Err(e.clone()),
            Line::Fields(f) if f.len() != cols || cols < 2 => Err(if cols < 2 {
                format!("found {} column(s); a token and a tag are needed", f.len())
            } else {
                format!("expected {cols} columns (as most lines of the file have), found {}", f.len())
            }),
            Line::Fields(f) => {
                let (token, tag) = match label {
                    LabelColumn::First => (f[1], f[0]),
                    _ => (f[0], f[cols - 1]),
                };
                if token.is_empty() {
                    Err("empty token".to_string())
                } else {
                    Tag::parse(tag).map(|t| (token, t)).map_err(|e| e.to_string())
                }
            }
        };
        match row {
            Ok((token, tag)) => cur.rows.push((*n, token, tag)),
            Err(message) => {
                out.reject(DataError::line(name, *n, message))?;
                cur.bad = true;
            }
        }
    }
    flush(&mut cur, &mut sentences);

    let scheme = match opts.scheme {
        Scheme::Auto => detect_scheme(&sentences),
        s => s,
    };
    let mut repaired = (0usize, 0usize);
    let mut examples = Vec::with_capacity(sentences.len());
    for rows in &sentences {
        if scheme == Scheme::Iob2 {
            let mut prev: Option<&Tag> = None;
            for (n, _, tag) in rows {
                if let Tag::I(l) = tag {
                    if prev.and_then(Tag::label) != Some(l.as_str()) {
                        repaired.0 += 1;
                        if repaired.1 == 0 {
                            repaired.1 = *n;
                        }
                    }
                }
                prev = Some(tag);
            }
        }
        examples.push(sentence_example(rows));
    }
    if repaired.0 > 0 {
        out.warnings.push(format!(
            "{name}:{}: {} I- tag(s) without a preceding B-/I- of the same type were read as entity starts (IOB2; first here)",
            repaired.1, repaired.0
        ));
    }
    Ok(ReadOutcome { examples, warnings: out.warnings })
}

fn detect_scheme(sentences: &[Vec<(usize, &str, Tag)>]) -> Scheme {
    let (mut iob1, mut iob2) = (0usize, 0usize);
    for rows in sentences {
        let mut prev = &Tag::O;
        for (_, _, tag) in rows {
            match (prev, tag) {
                (Tag::O, Tag::I(_)) => iob1 += 1,
                (Tag::O, Tag::B(_)) => iob2 += 1,
                _ => {}
            }
            prev = tag;
        }
    }
    if iob1 > iob2 {
        Scheme::Iob1
    } else {
        Scheme::Iob2
    }
}

fn sentence_example(rows: &[(usize, &str, Tag)]) -> Example {
    let mut text = String::new();
    let mut tokens = Vec::with_capacity(rows.len());
    let mut pos = 0;
    for (i, (_, token, _)) in rows.iter().enumerate() {
        if i > 0 {
            text.push(' ');
            pos += 1;
        }
        let n = token.chars().count();
        text.push_str(token);
        tokens.push((pos, pos + n));
        pos += n;
    }
    let tags: Vec<Tag> = rows.iter().map(|r| r.2.clone()).collect();
    let spans = tags_to_spans(&tags, &tokens);
    Example { text, spans }
}

/// Writes examples as IOB2 `word\tTAG` lines over [`words`] of each text, a blank line after
/// each sentence. Errors name the example: invalid spans, a span not aligned with the words,
/// a text without words, or a word `-DOCSTART-` (which readers skip).
pub fn write_conll(examples: &[Example]) -> Result<String, DataError> {
    let mut out = String::new();
    for (i, ex) in examples.iter().enumerate() {
        ex.validate().map_err(|e| DataError::example(i, e))?;
        let ws = words(&ex.text);
        if ws.is_empty() {
            return Err(DataError::example(i, "the text has no words; CoNLL cannot hold an empty sentence"));
        }
        let tags = spans_to_tags(&ex.spans, &ws).map_err(|e| DataError::example(i, e.message))?;
        let chars: Vec<char> = ex.text.chars().collect();
        for (&(a, b), tag) in ws.iter().zip(&tags) {
            let word: String = chars[a..b].iter().collect();
            if word == "-DOCSTART-" {
                return Err(DataError::example(i, "a word is -DOCSTART-, which CoNLL readers skip"));
            }
            out.push_str(&word);
            out.push('\t');
            out.push_str(&tag.to_string());
            out.push('\n');
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Span;

    fn read_ok(text: &str, opts: ConllOptions) -> ReadOutcome {
        read(text.as_bytes(), "t.txt", opts, false).unwrap()
    }

    #[test]
    fn iob1_with_docstart_and_four_columns() {
        let f = "-DOCSTART- -X- -X- O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\n\
                 \nA x y I-PER\nB x y B-PER\nC x y I-LOC\n";
        let r = read_ok(f, ConllOptions::default());
        assert_eq!(r.examples.len(), 2);
        assert_eq!(r.examples[0].text, "EU rejects German");
        assert_eq!(r.examples[0].spans, vec![Span::new(0, 2, "ORG"), Span::new(11, 17, "MISC")]);
        assert_eq!(r.examples[1].spans, vec![Span::new(0, 1, "PER"), Span::new(2, 3, "PER"), Span::new(4, 5, "LOC")]);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn iob2_label_first_crlf_and_repair_warning() {
        let f = "B-PER\tAnna\r\nO\tmet\r\nI-PER\tBob\r\n\r\n";
        let r = read_ok(f, ConllOptions::default());
        assert_eq!(r.examples[0].text, "Anna met Bob");
        assert_eq!(r.examples[0].spans, vec![Span::new(0, 4, "PER"), Span::new(9, 12, "PER")]);
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("t.txt:3: 1 I- tag(s)"), "{:?}", r.warnings);
        let r = read_ok(f, ConllOptions { scheme: Scheme::Iob1, label: LabelColumn::First });
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn tab_fields_keep_inner_spaces() {
        let r = read_ok("New York\tB-LOC\nis\tO\t\n", ConllOptions::default());
        assert_eq!(r.examples[0].text, "New York is");
        assert_eq!(r.examples[0].spans, vec![Span::new(0, 8, "LOC")]);
    }

    #[test]
    fn bad_lines_strict_and_lenient() {
        let f = "a\tO\nb\tB_PER\n\nc\tB-X\n\nd\tO\te\n\nf\tO\n";
        let e = read(f.as_bytes(), "w.txt", ConllOptions::default(), false).unwrap_err();
        assert_eq!(e.to_string(), "w.txt:2: bad tag \"B_PER\" (expected O, B-TYPE or I-TYPE)");
        let r = read(f.as_bytes(), "w.txt", ConllOptions::default(), true).unwrap();
        assert_eq!(r.examples.len(), 2);
        assert_eq!(r.warnings.len(), 2);
        assert!(r.warnings[1].starts_with("w.txt:6: expected 2 columns"));
    }

    #[test]
    fn writer_round_trip_and_errors() {
        let ex = vec![Example::new("Anna  met\tBob", vec![Span::new(0, 4, "PER"), Span::new(10, 13, "PER")])];
        let s = write_conll(&ex).unwrap();
        assert_eq!(s, "Anna\tB-PER\nmet\tO\nBob\tB-PER\n\n");
        let back = read_ok(&s, ConllOptions { scheme: Scheme::Iob2, label: LabelColumn::Last });
        assert_eq!(back.examples[0].spans, vec![Span::new(0, 4, "PER"), Span::new(9, 12, "PER")]);
        let bad = [Example::new("ab", vec![]), Example::new("Anna", vec![Span::new(0, 2, "PER")])];
        assert!(write_conll(&bad).unwrap_err().to_string().starts_with("example 1:"));
        assert!(write_conll(&[Example::new(" ", vec![])]).is_err());
    }
}
