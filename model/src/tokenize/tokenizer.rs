//! The sub-word tokenizer with exact character offsets.
//!
//! A thin layer over the `tokenizers` crate (built with its wasm-compatible features):
//! truncation and padding in `tokenizer.json` are switched off, because a long text is never
//! cut — it is split into overlapping [`window`](super::window)s instead.

use tokenizers::Tokenizer;

use crate::error::{ModelError, Result};

/// A text's tokens, without special tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenizedText {
    /// Vocabulary ids.
    pub ids: Vec<u32>,
    /// Token strings as the vocabulary spells them (`##er`, `Ġhello`).
    pub tokens: Vec<String>,
    /// `[start, end)` character (Unicode scalar) offsets into the text.
    pub offsets: Vec<(usize, usize)>,
    /// Index of the pre-tokenizer word each token came from.
    pub word_ids: Vec<Option<u32>>,
}

impl TokenizedText {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// True when the text produced no token (empty or whitespace only).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A Hugging Face tokenizer plus the special tokens its post-processor wraps a sequence in.
#[derive(Clone)]
pub struct NerTokenizer {
    inner: Tokenizer,
    prefix: Vec<(u32, String)>,
    suffix: Vec<(u32, String)>,
}

impl std::fmt::Debug for NerTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NerTokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("prefix", &self.prefix)
            .field("suffix", &self.suffix)
            .finish()
    }
}

impl NerTokenizer {
    /// Reads a `tokenizer.json`. `file` names it in errors.
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<Self> {
        let mut inner = Tokenizer::from_bytes(bytes)
            .map_err(|e| ModelError::tokenizer(file, format!("cannot read tokenizer: {e}")))?;
        inner
            .with_truncation(None)
            .map_err(|e| ModelError::tokenizer(file, format!("cannot disable truncation: {e}")))?;
        inner.with_padding(None);
        // The post-processor's special tokens, found by wrapping a probe word: those before the
        // first content token form the prefix ([CLS] / <s>), those after it the suffix.
        let probe = inner
            .encode("hello", true)
            .map_err(|e| ModelError::tokenizer(file, format!("cannot encode a probe text: {e}")))?;
        let mask = probe.get_special_tokens_mask();
        let first = mask.iter().position(|&m| m == 0).unwrap_or(mask.len());
        let last = mask.iter().rposition(|&m| m == 0).map_or(first, |i| i + 1);
        let pick = |range: std::ops::Range<usize>| {
            range.map(|i| (probe.get_ids()[i], probe.get_tokens()[i].clone())).collect::<Vec<_>>()
        };
        Ok(Self { prefix: pick(0..first), suffix: pick(last..mask.len()), inner })
    }

    /// Tokenises `text` without special tokens; offsets are in characters.
    pub fn tokenize(&self, text: &str) -> Result<TokenizedText> {
        let enc = self
            .inner
            .encode_char_offsets(text, false)
            .map_err(|e| ModelError::tokenizer("tokenizer", format!("cannot encode text: {e}")))?;
        Ok(TokenizedText {
            ids: enc.get_ids().to_vec(),
            tokens: enc.get_tokens().to_vec(),
            offsets: enc.get_offsets().to_vec(),
            word_ids: enc.get_word_ids().to_vec(),
        })
    }

    /// Special tokens put before a sequence (e.g. `[CLS]`).
    pub fn prefix(&self) -> &[(u32, String)] {
        &self.prefix
    }

    /// Special tokens put after a sequence (e.g. `[SEP]`).
    pub fn suffix(&self) -> &[(u32, String)] {
        &self.suffix
    }

    /// `ids` with the special tokens around them, as the model reads one sequence.
    pub fn wrap(&self, ids: &[u32]) -> Vec<u32> {
        let mut out = Vec::with_capacity(ids.len() + self.num_special());
        out.extend(self.prefix.iter().map(|p| p.0));
        out.extend_from_slice(ids);
        out.extend(self.suffix.iter().map(|s| s.0));
        out
    }

    /// Number of special tokens around one sequence.
    pub fn num_special(&self) -> usize {
        self.prefix.len() + self.suffix.len()
    }

    /// Vocabulary size including added tokens; the largest id is one less.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Largest id the tokenizer can produce.
    pub fn max_id(&self) -> Option<u32> {
        let vocab = self.inner.get_vocab(true);
        vocab.values().copied().max()
    }

    /// The wrapped `tokenizers` tokenizer (normaliser and decoder, for tests and tools).
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}
