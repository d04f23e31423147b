//! Messages between the UI (main thread) and the model worker: the only coupling between them.
//!
//! Offsets cross this boundary in characters (Unicode scalars, as in the model crate) and, where
//! the UI needs them for the DOM, also in UTF-16 code units.

use nuner::data::{Example, Span};
use serde::{Deserialize, Serialize};

/// The wire format of [`Request`] and [`Response`]: MessagePack with named fields.
///
/// gloo-worker's default, bincode, is not self-describing: a field that serde skips when empty
/// (`Span::score`, so that the canonical JSONL has no `"score": null`) shifts every byte after
/// it and the other side fails to decode. MessagePack maps carry their field names, and byte
/// buffers (model files) travel as binary, not as arrays of numbers.
#[derive(Debug)]
pub struct MsgPack;

impl MsgPack {
    /// Message → bytes.
    pub fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec_named(value).expect("protocol messages serialise")
    }

    /// Bytes → message.
    pub fn from_bytes<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, rmp_serde::decode::Error> {
        rmp_serde::from_slice(bytes)
    }
}

impl gloo_worker::Codec for MsgPack {
    fn encode<I: Serialize>(input: I) -> wasm_bindgen::JsValue {
        js_sys::Uint8Array::from(Self::to_bytes(&input).as_slice()).into()
    }

    fn decode<O: for<'de> Deserialize<'de>>(input: wasm_bindgen::JsValue) -> O {
        // Both ends are this crate, built together: a failure here is a bug, not bad input.
        Self::from_bytes(&js_sys::Uint8Array::from(input).to_vec()).expect("a protocol message from this build")
    }
}

/// UI → worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Load the model whose files (`config.json`, `model.bpk`, `tokenizer.json`) are under the
    /// URL `base`. `backend` is `"auto"` (WebGPU when the browser offers an adapter, else CPU),
    /// `"webgpu"` or `"cpu"`.
    Load {
        /// Directory URL, relative to the page or absolute.
        base: String,
        /// Backend preference.
        backend: String,
        /// 8-bit linear layers on the CPU backend (`?precision=int8`;
        /// `nuner::encoder::kernels::set_int8`). WebGPU always runs f32.
        #[serde(default)]
        int8: bool,
    },
    /// Load a model from files the user picked.
    LoadFiles {
        /// Display name.
        name: String,
        /// `config.json`.
        #[serde(with = "serde_bytes")]
        config: Vec<u8>,
        /// `tokenizer.json`.
        #[serde(with = "serde_bytes")]
        tokenizer: Vec<u8>,
        /// `model.bpk` (from `nuner convert`).
        #[serde(with = "serde_bytes")]
        weights: Vec<u8>,
        /// Backend preference.
        backend: String,
    },
    /// Tokenise and embed one text (the inspector).
    Embed {
        /// Echoed in the answer.
        id: u64,
        /// The text.
        text: String,
        /// Hidden state to report (0 = embeddings output); `None` = the last layer.
        layer: Option<usize>,
    },
    /// Train a head on labelled examples (features of texts seen before are reused).
    Train {
        /// Labelled examples; entity types are taken from `types`.
        examples: Vec<Example>,
        /// Entity types, in the UI's order.
        types: Vec<String>,
        /// Options.
        options: TrainOptions,
    },
    /// Stop the running training after its current step.
    Cancel,
    /// Use this saved head (JSON from `nuner finetune` or an earlier session).
    SetHead {
        /// The head file's bytes.
        json: String,
    },
    /// Predict entities in texts with the current head.
    Predict {
        /// Echoed in the answer.
        id: u64,
        /// The texts.
        texts: Vec<String>,
    },
    /// Put back the top layers fine-tuned in an earlier session (bytes from [`Response::Tuned`]),
    /// then use `head` when given (it belongs to the tuned encoder).
    RestoreTuned {
        /// Burnpack of the tuned top layers.
        #[serde(with = "serde_bytes")]
        layers: Vec<u8>,
        /// The head trained with them.
        head: Option<String>,
    },
    /// Time the encoder and the head in this browser (figures for docs/BENCHMARKS.md).
    Bench {
        /// Sequences per batch.
        batch: usize,
        /// Tokens per sequence.
        seq: usize,
        /// Timed iterations.
        iters: usize,
    },
}

/// Head-training options chosen in the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// `"linear"` or `"mlp"`.
    pub head: String,
    /// Epochs (each a full pass; small sets are one batch).
    pub epochs: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Seed.
    pub seed: u64,
    /// After the head, fine-tune it together with the encoder's top N layers (autodiff; 0 = the
    /// paper's frozen protocol).
    #[serde(default)]
    pub unfreeze: usize,
    /// Fine-tuning steps (batches of 16 texts) when `unfreeze > 0`.
    #[serde(default = "default_tune_steps")]
    pub tune_steps: usize,
}

fn default_tune_steps() -> usize {
    100
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self { head: "linear".into(), epochs: 300, learning_rate: 0.2, seed: 0, unfreeze: 0, tune_steps: default_tune_steps() }
    }
}

/// Worker → UI.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Response {
    /// Loading progress, in bytes of the current file.
    Progress {
        /// What is being done.
        stage: String,
        /// Done.
        done: u64,
        /// In all (0 when unknown).
        total: u64,
    },
    /// The model is loaded.
    Ready(ModelInfo),
    /// Result of [`Request::Embed`].
    Embedded(Embedded),
    /// Training progress.
    TrainProgress {
        /// What is being done (`features`, `training`).
        stage: String,
        /// Steps (or texts) done.
        done: usize,
        /// Of this many.
        total: usize,
        /// Latest training loss (training stage).
        loss: Option<f32>,
    },
    /// A head is ready: trained, or set from a file.
    HeadReady(HeadInfo),
    /// Result of [`Request::Predict`].
    Predicted(Predicted),
    /// The encoder's top layers were fine-tuned: keep these bytes to restore them later
    /// ([`Request::RestoreTuned`]). Sent before the head they belong to.
    Tuned(TunedLayers),
    /// Result of [`Request::Bench`].
    Benched(BenchResult),
    /// Something failed; the message is for people.
    Error(String),
}

/// What the UI shows about the loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Where it came from.
    pub name: String,
    /// The active device, e.g. "WebGPU" or "CPU (flex, wasm)".
    pub backend: String,
    /// Transformer layers.
    pub layers: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Seconds spent loading (download + weights).
    pub seconds: f64,
    /// Weights fingerprint (saved heads must match it).
    pub fingerprint: String,
    /// Top layers fine-tuned in this browser (0 = the encoder as loaded).
    #[serde(default)]
    pub tuned_layers: usize,
}

/// Fine-tuned top layers, as the browser stores them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedLayers {
    /// Fingerprint of the encoder they were tuned from (they only fit that one).
    pub base_fingerprint: String,
    /// How many top layers.
    pub layers: usize,
    /// Burnpack bytes (`nuner::tuned`).
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// A head the worker now uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadInfo {
    /// The saved head (JSON), for the UI to store and export.
    pub json: String,
    /// Entity types.
    pub types: Vec<String>,
    /// Loss after each reported step (empty for a head set from a file).
    pub losses: Vec<f32>,
    /// Seconds of training (features included), 0 for a head set from a file.
    pub seconds: f64,
    /// True when training was cancelled (the head is the one reached so far).
    pub cancelled: bool,
}

/// One embedded text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedded {
    /// The request's id.
    pub id: u64,
    /// Per token, special tokens included.
    pub tokens: Vec<TokenView>,
    /// Milliseconds for tokenise + forward + read-back.
    pub millis: f64,
}

/// A token as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    /// Vocabulary spelling.
    pub token: String,
    /// Character offsets `[start, end)`; `None` for special tokens.
    pub chars: Option<(usize, usize)>,
    /// The same span in UTF-16 code units.
    pub utf16: Option<(usize, usize)>,
    /// L2 norm of the token's vector at the requested layer.
    pub norm: f32,
}

/// Predictions for several texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicted {
    /// The request's id.
    pub id: u64,
    /// Spans per text (character offsets, with `score`).
    pub spans: Vec<Vec<Span>>,
    /// Per text, the smallest margin between the two most likely tags of a word (low = unsure).
    pub margins: Vec<f32>,
    /// Milliseconds for all texts.
    pub millis: f64,
}

/// In-browser timings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Active backend.
    pub backend: String,
    /// Encoder tokens per second on `batch × seq`.
    pub tokens_per_s: f64,
    /// Milliseconds per short sentence (features + head + decode), warm.
    pub sentence_ms: f64,
    /// Tokens in that sentence.
    pub sentence_tokens: usize,
    /// Seconds to train a head on 50 sentences for 30 epochs (features cached).
    pub train_50x30_s: f64,
}

/// Converts character offsets into UTF-16 offsets for `text`.
pub fn chars_to_utf16(text: &str, spans: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let table = utf16_table(text);
    spans.iter().map(|&(s, e)| (table[s], table[e])).collect()
}

/// `table[c]` = UTF-16 offset of character `c` (one entry past the end).
pub fn utf16_table(text: &str) -> Vec<usize> {
    let mut table = Vec::with_capacity(text.len() + 1);
    let mut acc = 0;
    for c in text.chars() {
        table.push(acc);
        acc += c.len_utf16();
    }
    table.push(acc);
    table
}

/// The character offset of UTF-16 offset `u` in `text` (rounded down inside a surrogate pair).
pub fn utf16_to_char(text: &str, u: usize) -> usize {
    let mut acc = 0;
    for (i, c) in text.chars().enumerate() {
        if acc + c.len_utf16() > u {
            return i;
        }
        acc += c.len_utf16();
    }
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_with_skipped_fields_cross_the_wire() {
        // A labelled example has spans without scores (skipped by serde); predictions have them.
        let ex = Example::new("Ada met Bob", vec![Span::new(0, 3, "person"), Span::new(8, 11, "person")]);
        let req = Request::Train { examples: vec![ex.clone(), Example::new("none", vec![])], types: vec!["person".into()], options: TrainOptions::default() };
        let back: Request = MsgPack::from_bytes(&MsgPack::to_bytes(&req)).unwrap();
        assert_eq!(format!("{back:?}"), format!("{req:?}"));
        let bytes = Request::LoadFiles { name: "m".into(), config: vec![1, 2], tokenizer: vec![], weights: vec![255; 1000], backend: "cpu".into() };
        let encoded = MsgPack::to_bytes(&bytes);
        assert!(encoded.len() < 1100, "bytes travel as binary ({} bytes)", encoded.len());
        assert_eq!(format!("{:?}", MsgPack::from_bytes::<Request>(&encoded).unwrap()), format!("{bytes:?}"));
    }

    #[test]
    fn utf16_offsets_count_surrogate_pairs() {
        let text = "a👍🏽b東";
        // chars: a, 👍, 🏽, b, 東 ; utf16: 1, 2, 2, 1, 1
        assert_eq!(chars_to_utf16(text, &[(0, 1), (1, 3), (3, 4), (4, 5)]), vec![(0, 1), (1, 5), (5, 6), (6, 7)]);
        for (c, u) in utf16_table(text).into_iter().enumerate() {
            assert_eq!(utf16_to_char(text, u), c);
        }
        assert_eq!(utf16_to_char(text, 2), 1, "inside a surrogate pair rounds down");
    }
}
