//! Tokenisation offsets on hard Unicode, and windows over long texts.

mod common;

use common::*;
use nuner::embed::{block_on, embed_texts, EmbedOptions};
use nuner::tokenize::window::WindowConfig;
use nuner::tokenize::NerTokenizer;
use tokenizers::normalizer::NormalizedString;
use tokenizers::Normalizer;

const HARD_TEXTS: &[&str] = &[
    "Café Müller in São Paulo, naïve coöperation — Ångström!",
    "Cafe\u{301} with decomposed e\u{301} and a\u{308}\u{301} stacked marks",
    "東京で会議があった。北京和上海也有。서울에서 만나요",
    "Family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽 and ☕️ emoji",
    "  leading spaces, tabs\tand\nnewlines  ",
    "Mixed: U.S.-based Apple's $3.5bn deal (2015) ≈ €3.1bn; e-mail: a@b.co",
    "",
];

fn chars(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

/// Every token's offsets slice the text to what the token stands for (after the tokenizer's
/// own normalisation). Tokens that split one character (Hangul syllables into jamo) share its
/// offsets, so runs of equal offsets are compared together; [UNK] covers something non-empty;
/// offsets never go backwards.
fn check_wordpiece_offsets(tok: &NerTokenizer, text: &str) {
    let t = tok.tokenize(text).unwrap();
    let n = text.chars().count();
    let mut prev_end = 0;
    let mut i = 0;
    while i < t.len() {
        let (s, e) = t.offsets[i];
        let mut j = i + 1;
        while j < t.len() && t.offsets[j] == (s, e) {
            j += 1;
        }
        assert!(s < e && e <= n && s >= prev_end, "{text:?}: token {:?} has offsets {s}..{e}", t.tokens[i]);
        prev_end = e;
        let run: String = t.tokens[i..j].iter().map(|x| x.trim_start_matches("##")).collect();
        if run != "[UNK]" {
            let mut normalized = NormalizedString::from(chars(text, s, e).as_str());
            if let Some(norm) = tok.inner().get_normalizer() {
                norm.normalize(&mut normalized).unwrap();
            }
            let normalized: String = normalized.get().chars().filter(|c| !c.is_whitespace()).collect();
            assert_eq!(normalized, run, "{text:?}: slice {s}..{e} = {:?}", chars(text, s, e));
        }
        i = j;
    }
}

#[test]
fn minilm_offsets_slice_the_text_on_hard_unicode() {
    let model = load(&minilm_dir(), &cpu());
    for text in HARD_TEXTS {
        check_wordpiece_offsets(&model.tokenizer, text);
    }
}

#[test]
fn tiny_bert_offsets_slice_the_text_on_hard_unicode() {
    let model = load(&fixture("tiny-bert"), &cpu());
    for text in HARD_TEXTS {
        check_wordpiece_offsets(&model.tokenizer, text);
    }
}

/// Byte-level BPE is lossless, but a token may hold bytes of several characters, so offsets of
/// neighbours can overlap. The properties: all tokens decode back to the text; offsets stay
/// inside it and never start before the previous token's start; and every token that decodes to
/// whole characters slices the text to exactly those characters.
#[test]
fn roberta_byte_level_offsets_slice_the_text() {
    let model = load(&fixture("tiny-roberta"), &cpu());
    let tok = &model.tokenizer;
    for text in HARD_TEXTS {
        let t = tok.tokenize(text).unwrap();
        assert_eq!(tok.inner().decode(&t.ids, false).unwrap(), *text, "lossless");
        let n = text.chars().count();
        let mut prev_start = 0;
        let mut whole = 0;
        for i in 0..t.len() {
            let (s, e) = t.offsets[i];
            assert!(s <= e && e <= n && s >= prev_start, "{text:?}: {:?} at {s}..{e}", t.tokens[i]);
            prev_start = s;
            let decoded = tok.inner().decode(&t.ids[i..i + 1], false).unwrap();
            if !decoded.contains('\u{fffd}') && !decoded.trim().is_empty() {
                assert_eq!(chars(text, s, e).trim(), decoded.trim(), "{text:?}: token {:?}", t.tokens[i]);
                whole += 1;
            }
        }
        assert!(text.trim().is_empty() || whole > 0);
    }
}

/// A 5,000-word text is windowed, never truncated: every token appears once, in order, the last
/// one reaches the end of the text, and each token's vector is the one its owning window gives.
#[test]
fn five_thousand_words_are_windowed_not_truncated() {
    let device = cpu();
    let model = load(&minilm_dir(), &device);
    let words = ["Obama", "visited", "Paris", "with", "Apple", "engineers", "in", "2015,", "naïve", "東京",
        "👍🏽", "und", "São", "Paulo's", "co-operation."];
    let text: String = (0..5000).map(|i| words[(i * 7 + i / 3) % words.len()]).collect::<Vec<_>>().join(" ");
    let tokenized = model.tokenizer.tokenize(&text).unwrap();
    assert!(tokenized.len() > 5000);
    let window = WindowConfig::new(126, 30).unwrap();
    let options = EmbedOptions { window: Some(window), ..EmbedOptions::last(&model) };
    let e = block_on(embed_texts(&model, &[&text], &options, &device)).unwrap().remove(0);

    assert_eq!(e.ids.len(), tokenized.len() + 2);
    assert_eq!(e.offsets.first(), Some(&None));
    assert_eq!(e.offsets.last(), Some(&None));
    let inner: Vec<(usize, usize)> = e.offsets[1..e.offsets.len() - 1].iter().map(|o| o.unwrap()).collect();
    assert_eq!(inner, tokenized.offsets, "merged tokens are the text's tokens, once each, in order");
    assert_eq!(inner.last().unwrap().1, text.chars().count(), "the end of the text is reached");
    // Every non-space character is covered by exactly one token.
    let mut covered = vec![0u8; text.chars().count()];
    for (s, e) in &inner {
        for c in &mut covered[*s..*e] {
            *c += 1;
        }
    }
    for (i, ch) in text.chars().enumerate() {
        assert_eq!(covered[i], u8::from(!ch.is_whitespace()), "char {i} {ch:?}");
    }

    // Bookkeeping: tokens owned by window k equal a direct run of that window alone.
    let plan = window.plan(tokenized.len());
    assert!(plan.len() > 40);
    for w in [&plan[0], &plan[plan.len() / 2], plan.last().unwrap()] {
        let ids: Vec<u32> = std::iter::once(101).chain(tokenized.ids[w.span.clone()].iter().copied()).chain([102]).collect();
        let batch = nuner::TokenBatch::right_padded(&[ids], 0);
        let out = model.encoder.forward(batch.to_input(&model.config, &device));
        let direct = block_on(nuner::embed::read_f32(out.last_hidden_state())).unwrap();
        let h = model.config.hidden_size;
        for t in w.owned.clone() {
            let row = 1 + t - w.span.start;
            assert_close("owned token", e.vector(0, 1 + t), &direct[row * h..(row + 1) * h], 1e-5);
        }
    }
}

#[test]
fn windows_larger_than_the_model_are_refused() {
    let model = load(&fixture("tiny-bert"), &cpu());
    let options = EmbedOptions { window: Some(WindowConfig::new(63, 10).unwrap()), ..EmbedOptions::last(&model) };
    let err = block_on(embed_texts(&model, &["hello"], &options, &cpu())).unwrap_err();
    assert!(err.to_string().contains("exceeds"), "{err}");
}
