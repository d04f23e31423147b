//! NuNER's published pre-training data (`numind/NuNER`, `entity-00001-of-00001.csv`): a CSV
//! with a header, an `input` column (the sentence) and an `output` column holding a
//! Python-literal list of strings `"<entity text> <> <concept>"`, e.g.
//! `['Paris <> city', "Lyon's mayor <> political office"]`. Other columns are ignored.
//!
//! The paper asked the LLM for no offsets, so spans are recovered here by string matching, with
//! the same code as `nuner annotate` ([`crate::annotate::build_spans`]): exact text first, then
//! ignoring case, whole words only, and **every** non-overlapping occurrence of the entity text
//! becomes a span by default ([`Occurrences::All`]; pass [`Occurrences::First`] for the first
//! only). An annotation whose text is not in the sentence is dropped and counted.
//!
//! Rows are dropped (and counted in [`CsvStats`]) when
//! - an annotation's concept is literally "concept": the whole row, as the paper's filter did
//!   (1.35M → 1.0M sentences);
//! - no annotation could be placed in the sentence (no span at all): such a row would only teach
//!   that its tokens are no concept, which the LLM said is false.
//!
//! The reader streams: rows are parsed one at a time from any [`std::io::Read`] (a byte slice in
//! the browser or tests, a file natively). A malformed row is an error naming `file:line`.

use std::io::Read;

use crate::annotate::{build_spans, parse_reply, Drops, GenericConcept, MatchOptions, Occurrences};
use crate::data::{Example, Span};

use super::error::PretrainError;

/// What reading a CSV found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvStats {
    /// Data rows read.
    pub rows: u64,
    /// Rows returned as examples.
    pub kept: u64,
    /// Rows dropped because an annotation's concept is "concept".
    pub generic_rows: u64,
    /// Rows dropped because none of their entities was found in the sentence.
    pub no_span_rows: u64,
    /// Annotations dropped inside kept rows (entity not found, exact repeats).
    pub drops: Drops,
}

/// Iterator over the examples of a NuNER CSV; see the module documentation.
pub struct NunerCsv<R: Read> {
    records: csv::StringRecordsIntoIter<R>,
    name: String,
    input: usize,
    output: usize,
    matching: MatchOptions,
    stats: CsvStats,
}

/// Opens a NuNER CSV: reads the header and finds the `input` and `output` columns. `name` labels
/// messages; `occurrences` chooses all or the first occurrence of each entity's text.
pub fn read_nuner_csv<R: Read>(reader: R, name: &str, occurrences: Occurrences) -> Result<NunerCsv<R>, PretrainError> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
    let headers = rdr.headers().map_err(|e| PretrainError::line(name, 1, format!("cannot read the CSV header: {e}")))?;
    let column = |want: &str| {
        headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == want).ok_or_else(|| {
            PretrainError::line(name, 1, format!("no `{want}` column (columns: {:?})", headers.iter().collect::<Vec<_>>()))
        })
    };
    let (input, output) = (column("input")?, column("output")?);
    let matching = MatchOptions { occurrences, whole_words: true, generic: GenericConcept::DropSentence };
    Ok(NunerCsv { records: rdr.into_records(), name: name.to_string(), input, output, matching, stats: CsvStats::default() })
}

impl<R: Read> NunerCsv<R> {
    /// Counts so far (complete once the iterator is exhausted).
    pub fn stats(&self) -> &CsvStats {
        &self.stats
    }

    fn convert(&mut self, record: &csv::StringRecord, line: usize) -> Result<Option<Example>, PretrainError> {
        let field = |i: usize| {
            record.get(i).ok_or_else(|| PretrainError::line(&self.name, line, format!("the row has no column {}", i + 1)))
        };
        let text = field(self.input)?;
        let items = parse_py_str_list(field(self.output)?)
            .map_err(|e| PretrainError::line(&self.name, line, format!("`output` is not a list of strings: {e}")))?;
        // Each item is one `entity <> concept` line of the LLM's reply.
        let reply: Vec<String> = items.iter().map(|s| s.replace(['\n', '\r'], " ")).collect();
        let triples = parse_reply(&reply.join("\n")).triples;
        let (spans, drops) = build_spans(text, &triples, &self.matching);
        self.stats.rows += 1;
        if drops.generic_concept > 0 {
            self.stats.generic_rows += 1;
            return Ok(None);
        }
        if spans.is_empty() {
            self.stats.no_span_rows += 1;
            return Ok(None);
        }
        self.stats.kept += 1;
        self.stats.drops.add(&drops);
        let spans = spans.into_iter().map(|s| Span::new(s.start, s.end, s.label)).collect();
        Ok(Some(Example::new(text, spans)))
    }
}

impl<R: Read> Iterator for NunerCsv<R> {
    type Item = Result<Example, PretrainError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let record = match self.records.next()? {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    return Some(Err(PretrainError::line(&self.name, line, format!("malformed CSV row: {e}"))));
                }
            };
            let line = record.position().map_or(0, |p| p.line() as usize);
            match self.convert(&record, line) {
                Ok(Some(ex)) => return Some(Ok(ex)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Parses a Python list literal of string literals (`repr` of a `list[str]`): single- or
/// double-quoted strings with Python's escapes (`\\ \' \" \n \t \r \xhh \uhhhh \Uhhhhhhhh`;
/// an unknown escape keeps its backslash, as Python does), separated by commas, an optional
/// trailing comma. Adjacent literals are concatenated, as in Python.
pub fn parse_py_str_list(s: &str) -> Result<Vec<String>, String> {
    let mut it = s.trim().chars().peekable();
    if it.next() != Some('[') {
        return Err("does not start with `[`".into());
    }
    let mut out = Vec::new();
    loop {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        match it.peek().copied() {
            Some(']') => {
                it.next();
                break;
            }
            Some('\'' | '"') => {
                let mut item = String::new();
                while let Some(q @ ('\'' | '"')) = it.peek().copied() {
                    it.next();
                    read_py_string(&mut it, q, &mut item)?;
                    while it.peek().is_some_and(|c| c.is_whitespace()) {
                        it.next();
                    }
                }
                out.push(item);
                match it.next() {
                    Some(',') => {}
                    Some(']') => break,
                    other => return Err(format!("expected `,` or `]` after item {}, found {other:?}", out.len())),
                }
            }
            other => return Err(format!("expected a string literal, found {other:?}")),
        }
    }
    if let Some(c) = it.find(|c| !c.is_whitespace()) {
        return Err(format!("text after the closing `]`: {c:?}"));
    }
    Ok(out)
}

fn read_py_string(it: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char, out: &mut String) -> Result<(), String> {
    loop {
        match it.next().ok_or("unterminated string literal")? {
            c if c == quote => return Ok(()),
            '\\' => {
                let e = it.next().ok_or("unterminated escape")?;
                let hex = |it: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize| -> Result<char, String> {
                    let digits: String = it.take(n).collect();
                    u32::from_str_radix(&digits, 16)
                        .ok()
                        .filter(|_| digits.len() == n)
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad escape \\{e}{digits}"))
                };
                match e {
                    '\\' | '\'' | '"' => out.push(e),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    'x' => out.push(hex(it, 2)?),
                    'u' => out.push(hex(it, 4)?),
                    'U' => out.push(hex(it, 8)?),
                    '\n' => {}
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            c => out.push(c),
        }
    }
}

