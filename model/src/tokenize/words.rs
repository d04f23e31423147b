//! Word units: what a few-shot head labels, one feature vector each.
//!
//! Datasets that come tokenized (CoNLL, GLiNER) keep their own words — the evaluation protocol
//! scores those — and become text by joining words with spaces, so their words are the
//! whitespace-separated chunks. Raw text (JSONL, the browser, `nuner predict`) is cut at Unicode
//! word boundaries (UAX #29), so "Paris." gives "Paris" and "." and an emoji ZWJ sequence stays
//! one unit. Both are `[start, end)` character ranges.

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// How a text is cut into word units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Segmentation {
    /// Whitespace-separated chunks (pre-tokenized datasets).
    Whitespace,
    /// Unicode word boundaries without the whitespace between them (raw text).
    #[default]
    Unicode,
}

/// Character ranges of the word units of `text`.
pub fn segment(text: &str, how: Segmentation) -> Vec<(usize, usize)> {
    match how {
        Segmentation::Whitespace => crate::data::words(text),
        Segmentation::Unicode => {
            let mut out = Vec::new();
            let mut chars_before = 0;
            let mut byte_pos = 0;
            for (byte_start, piece) in text.split_word_bound_indices() {
                chars_before += text[byte_pos..byte_start].chars().count();
                byte_pos = byte_start;
                let len = piece.chars().count();
                if !piece.chars().all(char::is_whitespace) {
                    out.push((chars_before, chars_before + len));
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, how: Segmentation) -> Vec<String> {
        segment(text, how).into_iter().map(|(s, e)| text.chars().skip(s).take(e - s).collect()).collect()
    }

    #[test]
    fn unicode_words_split_punctuation_and_keep_graphemes() {
        assert_eq!(texts("I love Paris.", Segmentation::Unicode), ["I", "love", "Paris", "."]);
        assert_eq!(texts("Family 👨‍👩‍👧 in 東京!", Segmentation::Unicode), ["Family", "👨‍👩‍👧", "in", "東", "京", "!"]);
        assert_eq!(texts("Cafe\u{301} ok", Segmentation::Unicode), ["Cafe\u{301}", "ok"]);
    }

    #[test]
    fn whitespace_words_are_the_dataset_tokens() {
        assert_eq!(texts("U.S. troops ( 3-1 )", Segmentation::Whitespace), ["U.S.", "troops", "(", "3-1", ")"]);
    }
}
