//! Property tests of the data layer and the metrics: random Unicode texts (CJK, emoji, combining
//! marks, whitespace runs) with random word-aligned spans survive every conversion unchanged;
//! no reader, writer, decoder or metric panics on arbitrary bytes or tag strings.

use nuner::data::{
    detect_format, gliner, read_examples, spans_to_tags, spans_to_tags_lossy, tags_to_spans, words, write_conll,
    write_jsonl, ConllOptions, Example, Format, LabelColumn, Scheme, Span, Tag,
};
use nuner::metrics::{entity_report, entity_report_default, token_macro_f1, try_entity_report};
use proptest::prelude::*;

/// Pieces of words: ASCII, accents (precomposed and combining), CJK, Hangul, emoji with ZWJ,
/// skin tone and variation selector, a zero-width space (not whitespace), RTL letters.
const PIECES: &[&str] = &[
    "a",
    "Z",
    "7",
    "-",
    ".",
    "'",
    "é",
    "e\u{301}",
    "ñ",
    "世",
    "界",
    "日本",
    "한국",
    "🙂",
    "👍🏽",
    "👩\u{200d}💻",
    "❤\u{fe0f}",
    "\u{200b}",
    "ש",
    "ب",
    "ß",
    "İ",
    "x\u{308}\u{323}",
    "\"",
    "{",
    "[",
    "B-X",
    "O",
];
/// Whitespace that separates words (all `char::is_whitespace`).
const SPACES: &[&str] = &[" ", "  ", "\t", "\n", "\r\n", "\u{3000}", "\u{a0}", "\u{2028}", " \u{85} "];
const LABELS: &[&str] = &["PER", "LOC", "musical instrument", "人物", "a-b", "event_attack/battle", "O", "x.y"];

fn word() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 1..4).prop_map(|v| v.concat())
}

/// A text and its words, plus word-level spans (first, last_exclusive, label), non-overlapping.
fn annotated() -> impl Strategy<Value = (String, Vec<String>, Vec<(usize, usize, String)>)> {
    (
        prop::collection::vec((word(), prop::sample::select(SPACES)), 1..12),
        prop::sample::select(SPACES),
        any::<bool>(),
        prop::collection::vec((0usize..3, 1usize..4, prop::sample::select(LABELS)), 0..6),
    )
        .prop_map(|(ws, lead, use_lead, plan)| {
            let mut text = if use_lead { lead.to_string() } else { String::new() };
            for (i, (w, sep)) in ws.iter().enumerate() {
                text.push_str(w);
                if i + 1 < ws.len() || use_lead {
                    text.push_str(sep);
                }
            }
            let words: Vec<String> = ws.into_iter().map(|(w, _)| w).collect();
            let mut spans = Vec::new();
            let mut at = 0;
            for (gap, len, label) in plan {
                let first = at + gap;
                let last = (first + len).min(words.len());
                if first >= last {
                    break;
                }
                spans.push((first, last, label.to_string()));
                at = last;
            }
            (text, words, spans)
        })
}

fn char_spans(text: &str, spans: &[(usize, usize, String)]) -> Vec<Span> {
    let ws = words(text);
    spans.iter().map(|(a, b, l)| Span::new(ws[*a].0, ws[*b - 1].1, l.clone())).collect()
}

fn all_formats() -> Vec<Format> {
    let mut v = vec![Format::Jsonl, Format::Gliner];
    for scheme in [Scheme::Iob1, Scheme::Iob2, Scheme::Auto] {
        for label in [LabelColumn::First, LabelColumn::Last, LabelColumn::Auto] {
            v.push(Format::Conll(ConllOptions { scheme, label }));
        }
    }
    v
}

/// Tag-like strings and noise, as a model or a messy file might produce.
fn tag_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "O", "B-A", "I-A", "B-B", "I-B", "B-x y", "I-x y", "B", "I", "S-A", "E-A", ".-A", "O-A", "B--A",
                "I-A-", "X-A", "b-A", "", "-", "B-", "I-世", "B-世", "🙂-A"
            ][..]
        )
        .prop_map(String::from),
        "\\PC{0,6}",
    ]
}

fn sentences() -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(prop::collection::vec(tag_string(), 0..10), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn spans_tags_spans_is_identity((text, words_, wspans) in annotated()) {
        let ws = words(&text);
        prop_assert_eq!(ws.len(), words_.len());
        let spans = char_spans(&text, &wspans);
        let ex = Example::new(text.clone(), spans.clone());
        prop_assert!(ex.validate().is_ok(), "{:?}", ex.validate());
        let tags = spans_to_tags(&spans, &ws).unwrap();
        prop_assert_eq!(tags_to_spans(&tags, &ws), spans.clone());
        let (lossy, bad) = spans_to_tags_lossy(&spans, &ws);
        prop_assert_eq!(lossy, tags.clone());
        prop_assert!(bad.is_empty());
        // Tags print and parse back.
        let again: Vec<Tag> = tags.iter().map(|t| Tag::parse(&t.to_string()).unwrap()).collect();
        prop_assert_eq!(again, tags);
    }

    #[test]
    fn writers_round_trip((text, words_, wspans) in annotated()) {
        let ex = Example::new(text.clone(), char_spans(&text, &wspans));
        let jsonl = write_jsonl(std::slice::from_ref(&ex));
        let back = read_examples(jsonl.as_bytes(), "p.jsonl", Format::Jsonl, false).unwrap();
        prop_assert_eq!(&back.examples, &vec![ex.clone()]);
        // CoNLL keeps the words and normalises the spacing to single spaces.
        let conll = write_conll(std::slice::from_ref(&ex)).unwrap();
        let opts = ConllOptions { scheme: Scheme::Iob2, label: LabelColumn::Last };
        let back = read_examples(conll.as_bytes(), "p.conll", Format::Conll(opts), false).unwrap();
        let want = Example::from_words(&words_, &wspans).unwrap();
        prop_assert_eq!(&back.examples, &vec![want.clone()]);
        prop_assert!(back.warnings.is_empty());
        // And the GLiNER form of the same example reads to the same thing.
        let ner: Vec<_> = wspans.iter().map(|(a, b, l)| serde_json::json!([a, b - 1, l])).collect();
        let rec = serde_json::json!([{"tokenized_text": words_, "ner": ner}]).to_string();
        let back = read_examples(rec.as_bytes(), "p.json", detect_format(rec.as_bytes(), "p.json"), false).unwrap();
        prop_assert_eq!(&back.examples, &vec![want]);
    }

    #[test]
    fn readers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = detect_format(&bytes, "x");
        for f in all_formats() {
            for lenient in [false, true] {
                if let Ok(r) = read_examples(&bytes, "x", f, lenient) {
                    for ex in &r.examples {
                        prop_assert!(ex.validate().is_ok());
                    }
                }
            }
        }
        let _ = gliner::read_nested(&bytes, "x", true);
    }

    #[test]
    fn readers_never_panic_on_near_valid_text(
        lines in prop::collection::vec(
            prop_oneof![
                Just(String::new()),
                Just("-DOCSTART- -X- O".to_string()),
                (word(), tag_string()).prop_map(|(w, t)| format!("{w}\t{t}")),
                (tag_string(), word()).prop_map(|(t, w)| format!("{t} {w}")),
                (word(), word(), tag_string()).prop_map(|(a, b, t)| format!("{a} {b} {t}\r")),
                "\\PC{0,30}",
                Just(r#"{"text": "ab", "spans": [{"start": 0, "end": 1, "label": "X"}]}"#.to_string()),
                Just(r#"{"tokenized_text": ["a", "b"], "ner": [[0, 1, "X"], [1, 1, "Y"]]}"#.to_string()),
            ],
            0..20,
        )
    ) {
        let text = lines.join("\n");
        let guessed = detect_format(text.as_bytes(), "y");
        for f in all_formats().into_iter().chain([guessed]) {
            for lenient in [false, true] {
                if let Ok(r) = read_examples(text.as_bytes(), "y", f, lenient) {
                    for ex in &r.examples {
                        prop_assert!(ex.validate().is_ok(), "{:?}", ex);
                    }
                    // Whatever was read can be written again.
                    let _ = write_conll(&r.examples);
                    let _ = write_jsonl(&r.examples);
                }
            }
        }
    }

    #[test]
    fn decoders_and_metrics_never_panic(gold in sentences(), pred in sentences()) {
        for seq in gold.iter().chain(&pred) {
            let tags: Vec<Tag> = seq.iter().map(|t| Tag::parse(t).unwrap_or(Tag::O)).collect();
            let toks: Vec<(usize, usize)> = (0..tags.len()).map(|i| (2 * i, 2 * i + 1)).collect();
            for s in tags_to_spans(&tags, &toks) {
                prop_assert!(s.start < s.end);
            }
        }
        let strict = entity_report(&gold, &pred);
        let default = entity_report_default(&gold, &pred);
        let token = token_macro_f1(&gold, &pred);
        let _ = try_entity_report(&gold, &pred);
        for p in [strict.micro, default.micro, token.micro] {
            prop_assert!((0.0..=1.0).contains(&p.precision) && (0.0..=1.0).contains(&p.recall));
            prop_assert!((0.0..=1.0).contains(&p.f1));
        }
        // Identical inputs score 1 wherever there is anything to score.
        let same = entity_report(&gold, &gold);
        if !same.per_type.is_empty() {
            prop_assert_eq!(same.micro.f1, 1.0);
        }
    }

    #[test]
    fn alignment_never_panics(
        spans in prop::collection::vec((0usize..30, 0usize..30, prop::sample::select(LABELS)), 0..6),
        tokens in prop::collection::vec((0usize..30, 0usize..30), 0..10),
    ) {
        let spans: Vec<Span> = spans.into_iter().map(|(a, b, l)| Span::new(a, b, l)).collect();
        if let Ok(tags) = spans_to_tags(&spans, &tokens) {
            prop_assert_eq!(tags.len(), tokens.len());
            let _ = tags_to_spans(&tags, &tokens);
        }
        let (tags, _) = spans_to_tags_lossy(&spans, &tokens);
        prop_assert_eq!(tags.len(), tokens.len());
        let _ = tags_to_spans(&tags, &tokens);
        let ex = Example::new("some text here", spans);
        let _ = ex.validate();
        let _ = write_conll(&[ex]);
    }
}
