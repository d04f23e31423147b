//! Messages between the UI (main thread) and the model worker: the only coupling between them.

use serde::{Deserialize, Serialize};

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
    },
    /// Tokenise and embed one text.
    Embed {
        /// Echoed in the answer.
        id: u64,
        /// The text.
        text: String,
        /// Hidden state to report (0 = embeddings output); `None` = the last layer.
        layer: Option<usize>,
    },
}

/// Worker → UI.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Response {
    /// Loading progress, in bytes of the current file.
    Progress {
        /// What is being done.
        stage: String,
        /// Bytes done.
        done: u64,
        /// Bytes in all (0 when unknown).
        total: u64,
    },
    /// The model is loaded.
    Ready(ModelInfo),
    /// Result of [`Request::Embed`].
    Embedded(Embedded),
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
    /// Character (Unicode scalar) offsets `[start, end)`; `None` for special tokens.
    pub chars: Option<(usize, usize)>,
    /// The same span in UTF-16 code units, for JavaScript strings and DOM selections.
    pub utf16: Option<(usize, usize)>,
    /// L2 norm of the token's last hidden state.
    pub norm: f32,
}

/// Converts character offsets into UTF-16 offsets for `text`.
pub fn chars_to_utf16(text: &str, spans: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut table = Vec::with_capacity(text.len() + 1);
    let mut acc = 0;
    for c in text.chars() {
        table.push(acc);
        acc += c.len_utf16();
    }
    table.push(acc);
    spans.iter().map(|&(s, e)| (table[s], table[e])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_count_surrogate_pairs() {
        let text = "a👍🏽b東";
        // chars: a, 👍, 🏽, b, 東 ; utf16: 1, 2, 2, 1, 1
        assert_eq!(chars_to_utf16(text, &[(0, 1), (1, 3), (3, 4), (4, 5)]), vec![(0, 1), (1, 5), (5, 6), (6, 7)]);
    }
}
