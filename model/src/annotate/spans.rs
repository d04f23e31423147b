//! Triples → character spans, by finding each entity's text in the sentence (the paper asks
//! the LLM for no offsets: it counts poorly).
//!
//! Search order for one entity: its exact text, then the same text ignoring case (a one-to-one
//! per-character lower-casing, so offsets never shift: `İ` and `ß` compare as themselves). If
//! the reply's raw form of the entity (with what looked like a list marker, "2. Bundesliga")
//! occurs, it wins over the cleaned form. With [`MatchOptions::whole_words`] (the default), a
//! match must not start or end inside a word — "art" is not found in "party" — where a word is
//! a run of letters and digits of a script written with spaces (Han, kana, Thai, Lao, Khmer and
//! Myanmar are matched anywhere). Occurrences do not overlap one another and are taken left to
//! right: all of them, or the first ([`Occurrences`]).
//!
//! Spans of different entities may overlap or nest ("New York" inside "New York City"); they
//! are all kept. Exact repeats of a (start, end, concept) are dropped and counted.

use std::collections::HashSet;

use super::parse::Triple;
use super::stats::Drops;
use super::AnnotatedSpan;

/// Which occurrences of an entity's text become spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Occurrences {
    /// Every (non-overlapping) occurrence.
    #[default]
    All,
    /// The first occurrence only.
    First,
}

/// What to do with the uninformative concept "concept" (the paper's filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GenericConcept {
    /// Drop the annotation, keep the sentence's other spans.
    #[default]
    DropSpan,
    /// Drop the whole sentence (what the paper did).
    DropSentence,
}

/// How triples become spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatchOptions {
    /// All occurrences or the first.
    pub occurrences: Occurrences,
    /// Matches may not begin or end inside a word.
    pub whole_words: bool,
    /// Treatment of the concept "concept".
    pub generic: GenericConcept,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self { occurrences: Occurrences::All, whole_words: true, generic: GenericConcept::DropSpan }
    }
}

/// A sentence prepared for repeated searches.
struct Haystack {
    chars: Vec<char>,
    folded: Vec<char>,
}

/// One character to one character lower-casing (characters whose lower case is longer are
/// kept as they are), so that folded offsets are the original offsets.
fn fold(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Letters and digits of scripts that separate words with spaces.
fn is_word_char(c: char) -> bool {
    if !c.is_alphanumeric() {
        return false;
    }
    let unspaced = matches!(c as u32,
        0x0E00..=0x0EFF          // Thai, Lao
        | 0x1000..=0x109F        // Myanmar
        | 0x1780..=0x17FF        // Khmer
        | 0x3040..=0x30FF        // Hiragana, Katakana
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0xFF66..=0xFF9F        // half-width Katakana
        | 0x20000..=0x3FFFF); // CJK extensions B and later
    !unspaced
}

impl Haystack {
    fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let folded = chars.iter().map(|&c| fold(c)).collect();
        Self { chars, folded }
    }

    /// Non-overlapping occurrences of `needle` (as chars), left to right.
    fn find(&self, needle: &[char], folded: bool, whole_words: bool) -> Vec<(usize, usize)> {
        let hay = if folded { &self.folded } else { &self.chars };
        let n = needle.len();
        let mut out = Vec::new();
        if n == 0 || n > hay.len() {
            return out;
        }
        let mut i = 0;
        while i + n <= hay.len() {
            if hay[i..i + n] == *needle && (!whole_words || self.at_boundaries(i, i + n)) {
                out.push((i, i + n));
                i += n;
            } else {
                i += 1;
            }
        }
        out
    }

    /// `[start, end)` neither begins nor ends inside a word.
    fn at_boundaries(&self, start: usize, end: usize) -> bool {
        let c = &self.chars;
        let left = start == 0 || !(is_word_char(c[start - 1]) && is_word_char(c[start]));
        let right = end == c.len() || !(is_word_char(c[end - 1]) && is_word_char(c[end]));
        left && right
    }

    /// Character ranges of `entity`: exact first, then ignoring case.
    fn locate(&self, entity: &str, opts: &MatchOptions) -> Vec<(usize, usize)> {
        let exact: Vec<char> = entity.chars().collect();
        let mut found = self.find(&exact, false, opts.whole_words);
        if found.is_empty() {
            let folded: Vec<char> = exact.iter().map(|&c| fold(c)).collect();
            found = self.find(&folded, true, opts.whole_words);
        }
        if opts.occurrences == Occurrences::First {
            found.truncate(1);
        }
        found
    }
}

/// The concept carries no information (the paper drops it).
pub fn is_generic_concept(concept: &str) -> bool {
    concept.trim().eq_ignore_ascii_case("concept")
}

/// The spans of `sentence` described by `triples`, sorted by (start, end), and the count of
/// annotations dropped on the way (entity not in the sentence, generic concept, exact repeat).
/// With [`GenericConcept::DropSentence`] the caller checks `drops.generic_concept`.
pub fn build_spans(sentence: &str, triples: &[Triple], opts: &MatchOptions) -> (Vec<AnnotatedSpan>, Drops) {
    let hay = Haystack::new(sentence);
    let mut drops = Drops::default();
    let mut spans = Vec::new();
    let mut seen = HashSet::new();
    for t in triples {
        if is_generic_concept(&t.concept) {
            drops.generic_concept += 1;
            continue;
        }
        let mut found = t.raw_entity.as_deref().map(|r| hay.locate(r, opts)).unwrap_or_default();
        if found.is_empty() {
            found = hay.locate(&t.entity, opts);
        }
        if found.is_empty() {
            drops.not_found += 1;
            continue;
        }
        let before = spans.len();
        for (start, end) in found {
            if seen.insert((start, end, t.concept.clone())) {
                spans.push(AnnotatedSpan { start, end, label: t.concept.clone(), description: t.description.clone() });
            }
        }
        if spans.len() == before {
            drops.duplicate += 1;
        }
    }
    spans.sort_by_key(|s| (s.start, s.end));
    (spans, drops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotate::parse::parse_reply;

    fn spans(sentence: &str, reply: &str, opts: MatchOptions) -> (Vec<(usize, usize, String)>, Drops) {
        let (s, d) = build_spans(sentence, &parse_reply(reply).triples, &opts);
        (s.into_iter().map(|s| (s.start, s.end, s.label)).collect(), d)
    }

    fn text(sentence: &str, (start, end): (usize, usize)) -> String {
        sentence.chars().skip(start).take(end - start).collect()
    }

    #[test]
    fn character_offsets_on_unicode() {
        let s = "Zoë met 東京 fans 👍🏽 in Zürich.";
        let (got, d) = spans(s, "Zoë <> person <> x\n東京 <> city <> y\nzürich <> city <> z", MatchOptions::default());
        assert_eq!(got, vec![(0, 3, "person".into()), (8, 10, "city".into()), (22, 28, "city".into())]);
        assert_eq!(text(s, (22, 28)), "Zürich");
        assert_eq!(d, Drops::default());
    }

    #[test]
    fn repeated_entities_all_or_first() {
        let s = "Paris is not paris, and PARIS is Paris.";
        let (all, _) = spans(s, "Paris <> city <> c", MatchOptions::default());
        assert_eq!(
            all,
            vec![(0, 5, "city".into()), (33, 38, "city".into())],
            "exact matches win over case-folded ones"
        );
        let first = MatchOptions { occurrences: Occurrences::First, ..Default::default() };
        assert_eq!(spans(s, "Paris <> city <> c", first).0, vec![(0, 5, "city".into())]);
        let (folded, _) = spans(s, "pARIS <> city <> c", MatchOptions::default());
        assert_eq!(folded.len(), 4);
    }

    #[test]
    fn drops_are_counted() {
        let s = "The party discussed art and the Art Deco style.";
        let reply = "art <> art form <> a\nBerlin <> city <> b\nstyle <> concept <> c\nart <> art form <> again\nArt Deco <> style <> d";
        let (got, d) = spans(s, reply, MatchOptions::default());
        // "art" occurs exactly (as a word) at 20, so the case-folded "Art" at 32 is not searched.
        assert_eq!(got, vec![(20, 23, "art form".into()), (32, 40, "style".into())]);
        assert_eq!((d.not_found, d.generic_concept, d.duplicate), (1, 1, 1));
        let inside = MatchOptions { whole_words: false, ..Default::default() };
        assert_eq!(spans("The party", "art <> x <> y", inside).0, vec![(5, 8, "x".into())]);
        assert!(spans("The party", "art <> x <> y", MatchOptions::default()).0.is_empty());
    }

    #[test]
    fn nested_spans_are_kept_and_separators_in_descriptions() {
        let s = "New York City is in New York.";
        let (got, _) = spans(s, "New York City <> city <> a <> b\nNew York <> state <> c", MatchOptions::default());
        assert_eq!(got, vec![(0, 8, "state".into()), (0, 13, "city".into()), (20, 28, "state".into())]);
        let (full, _) =
            build_spans(s, &parse_reply("New York City <> city <> a <> b").triples, &MatchOptions::default());
        assert_eq!(full[0].description, "a <> b");
    }

    #[test]
    fn raw_entity_wins_and_unspaced_scripts_match_anywhere() {
        let s = "Der 2. Bundesliga Verein";
        assert_eq!(spans(s, "2. Bundesliga <> league <> x", MatchOptions::default()).0, vec![(4, 17, "league".into())]);
        assert_eq!(spans("我在东京工作", "东京 <> 城市 <> x", MatchOptions::default()).0, vec![(2, 4, "城市".into())]);
        assert_eq!(fold('İ'), 'İ');
        assert_eq!(spans("İstanbul", "istanbul <> city <> x", MatchOptions::default()).0, vec![]);
    }
}
