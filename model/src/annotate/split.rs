//! The input corpus → the list of sentences to annotate, in a deterministic order: the index of
//! a sentence in this list is its id in the output.
//!
//! Input is plain text (one document per line, blank lines skipped) or JSON lines with a text
//! field. Each document is split into sentences with Unicode's sentence boundaries (UAX #29,
//! `unicode-segmentation`, already a dependency: maintained, no data files, any script, builds
//! for wasm), then two repairs for English, since UAX #29 breaks after any period followed by a
//! space and a capital: a break after a title ("Dr.", "Mr.", "St.", ...) or an initial ("J.",
//! "U.S.") is undone. A wrong merge makes a longer sentence, which costs nothing; a wrong split
//! cuts a name in two, so the repairs only merge. Language-specific rule sets (SRX, Punkt)
//! would do better on abbreviations but need per-language data the crate would have to ship.
//!
//! Sentences are trimmed; a sentence with no letter or digit ("...", "—") is not kept. With
//! `dedup`, a sentence identical to an earlier one (after trimming) is not kept either.

use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation;

use super::error::AnnotateError;
use super::prompt::hex;

/// How documents are stored in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFormat {
    /// One document per line.
    Text,
    /// One JSON object per line; the document is the string under this key.
    Jsonl {
        /// The key holding the text (usually `"text"`).
        field: String,
    },
}

/// What one request annotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Segmentation {
    /// Each sentence of a document (the paper annotates sentences).
    #[default]
    Sentences,
    /// Each document (line) as it is.
    Lines,
}

/// The sentences of a corpus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Corpus {
    /// Sentences; the index is the id.
    pub sentences: Vec<String>,
    /// Documents read (non-blank lines).
    pub documents: usize,
    /// Sentences left out because an identical one came earlier (with dedup).
    pub duplicates: usize,
}

impl Corpus {
    /// SHA-256 (hex) of the sentence list: the identity of the ids, checked when resuming.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for s in &self.sentences {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        hex(&h.finalize())
    }
}

/// JSON lines when the name ends in `.jsonl`/`.ndjson` or the first non-blank character is
/// `{`; plain text otherwise.
pub fn detect_input_format(bytes: &[u8], name: &str, field: &str) -> InputFormat {
    let lower = name.to_ascii_lowercase();
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || first == Some(&b'{') {
        InputFormat::Jsonl { field: field.to_string() }
    } else {
        InputFormat::Text
    }
}

/// Reads the corpus; `name` labels errors (`name:line: ...`). A line that is not UTF-8, not a
/// JSON object, or has no string under the text field is an error: the ids must not depend on
/// which lines a lenient reader happened to skip.
pub fn read_corpus(
    bytes: &[u8],
    name: &str,
    format: &InputFormat,
    segmentation: Segmentation,
    dedup: bool,
) -> Result<Corpus, AnnotateError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut corpus = Corpus::default();
    let mut seen = std::collections::HashSet::new();
    let err = |line: usize, message: String| AnnotateError::Input { file: name.to_string(), line, message };
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = std::str::from_utf8(raw)
            .map_err(|e| err(i + 1, format!("not valid UTF-8 (at byte {} of the line)", e.valid_up_to() + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let doc = match format {
            InputFormat::Text => line.to_string(),
            InputFormat::Jsonl { field } => {
                let v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| err(i + 1, format!("invalid JSON: {e}")))?;
                match v.get(field.as_str()) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(_) => return Err(err(i + 1, format!("field {field:?} is not a string"))),
                    None => return Err(err(i + 1, format!("no field {field:?} (choose it with --text-field)"))),
                }
            }
        };
        corpus.documents += 1;
        let pieces = match segmentation {
            Segmentation::Sentences => split_sentences(&doc),
            Segmentation::Lines => vec![doc.trim()],
        };
        for s in pieces {
            if !s.chars().any(char::is_alphanumeric) {
                continue;
            }
            if dedup && !seen.insert(s.to_string()) {
                corpus.duplicates += 1;
                continue;
            }
            corpus.sentences.push(s.to_string());
        }
    }
    Ok(corpus)
}

/// English titles after which UAX #29's break is undone.
const TITLES: &[&str] = &[
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Mt", "Sr", "Jr", "Gen", "Col", "Lt", "Sgt", "Capt", "Cmdr", "Adm", "Gov",
    "Sen", "Rep", "Rev", "Hon", "Fr", "Pres", "No", "Nos", "Vol", "Fig", "vs", "approx", "cf", "Ave", "Blvd",
];

/// The document's sentences, trimmed, as slices of it.
pub fn split_sentences(doc: &str) -> Vec<&str> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut merge_next = false;
    for (start, piece) in doc.split_sentence_bound_indices() {
        let end = start + piece.len();
        match out.last_mut() {
            Some(last) if merge_next => last.1 = end,
            _ => out.push((start, end)),
        }
        let (s, e) = *out.last().expect("just pushed");
        merge_next = ends_with_abbreviation(doc[s..e].trim_end());
    }
    out.into_iter().map(|(s, e)| doc[s..e].trim()).filter(|s| !s.is_empty()).collect()
}

/// The text ends with a title ("Dr.") or an initial ("J.", "U.S.").
fn ends_with_abbreviation(s: &str) -> bool {
    let Some(body) = s.strip_suffix('.') else {
        return false;
    };
    let word = body.rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"').next().unwrap_or(body);
    if TITLES.contains(&word) {
        return true;
    }
    // An initial: one capital letter, alone or after another initial's period ("U.S").
    let mut chars = word.chars().rev();
    match (chars.next(), chars.next()) {
        (Some(c), None) => c.is_uppercase(),
        (Some(c), Some('.')) => c.is_uppercase(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_repairs_abbreviations() {
        let doc = "Dr. Smith met J. K. Rowling in the U.S. Army base. It rained!  Did it? Yes… e.g. this stays.";
        assert_eq!(
            split_sentences(doc),
            vec![
                "Dr. Smith met J. K. Rowling in the U.S. Army base.",
                "It rained!",
                "Did it?",
                "Yes… e.g. this stays."
            ]
        );
        assert_eq!(split_sentences("東京に行った。大阪も。"), vec!["東京に行った。", "大阪も。"]);
        assert_eq!(split_sentences("  "), Vec::<&str>::new());
        assert_eq!(split_sentences("No end"), vec!["No end"]);
    }

    #[test]
    fn reads_text_and_jsonl_with_dedup() {
        let text = "\u{FEFF}A cat sat. A dog ran.\n\n...\nA cat sat.\n";
        let c = read_corpus(text.as_bytes(), "c.txt", &InputFormat::Text, Segmentation::Sentences, true).unwrap();
        assert_eq!(c.sentences, vec!["A cat sat.", "A dog ran."]);
        assert_eq!((c.documents, c.duplicates), (3, 1));
        let all = read_corpus(text.as_bytes(), "c.txt", &InputFormat::Text, Segmentation::Lines, false).unwrap();
        assert_eq!(all.sentences, vec!["A cat sat. A dog ran.", "A cat sat."]);
        assert_ne!(c.fingerprint(), all.fingerprint());
        let jsonl = "{\"body\": \"One. Two.\", \"id\": 3}\n{\"body\": \"Three\"}\r\n";
        let f = detect_input_format(jsonl.as_bytes(), "x.txt", "body");
        assert_eq!(f, InputFormat::Jsonl { field: "body".into() });
        let j = read_corpus(jsonl.as_bytes(), "x", &f, Segmentation::Sentences, false).unwrap();
        assert_eq!(j.sentences, vec!["One.", "Two.", "Three"]);
    }

    #[test]
    fn errors_name_the_line() {
        let f = InputFormat::Jsonl { field: "text".into() };
        let e = |s: &[u8]| read_corpus(s, "in.jsonl", &f, Segmentation::Sentences, false).unwrap_err().to_string();
        assert!(e(b"{\"text\": \"a\"}\n{oops").starts_with("in.jsonl:2: invalid JSON"));
        assert!(e(b"{\"txt\": \"a\"}").contains("no field \"text\""));
        assert!(e(b"{\"text\": 1}").contains("not a string"));
        let bad = read_corpus(b"ok\n\xFF\n", "in.txt", &InputFormat::Text, Segmentation::Sentences, false);
        assert!(bad.unwrap_err().to_string().starts_with("in.txt:2: not valid UTF-8"));
    }
}
