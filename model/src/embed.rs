//! Text in, per-token hidden states out: tokenise, window, batch, run, read back, merge.
//!
//! The one path every consumer uses (CLI `embed`, few-shot features, the browser worker).
//! It is `async` because reading tensors back is asynchronous in the browser; native callers
//! wrap it in [`block_on`].

use burn::prelude::*;

use crate::encoder::TokenBatch;
use crate::error::{ModelError, Result};
use crate::pretrained::Pretrained;
use crate::tokenize::window::{Window, WindowConfig};
use crate::tokenize::TokenizedText;

/// Which hidden states to return and how to cut long texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Indices into the hidden states (0 = embeddings output, `L` = last layer).
    pub layers: Vec<usize>,
    /// Window plan; `None` = the model's longest input, overlapping by a quarter.
    pub window: Option<WindowConfig>,
    /// Windows per forward pass.
    pub batch_size: usize,
}

impl EmbedOptions {
    /// Only the last hidden state, default windows, batches of 32.
    pub fn last(model: &Pretrained) -> Self {
        Self { layers: vec![model.config.num_hidden_layers], window: None, batch_size: 32 }
    }

    /// Every hidden state.
    pub fn all(model: &Pretrained) -> Self {
        Self { layers: (0..=model.config.num_hidden_layers).collect(), ..Self::last(model) }
    }
}

/// One text's tokens and the requested hidden states.
#[derive(Debug, Clone, PartialEq)]
pub struct TextEmbedding {
    /// Token strings, special tokens included.
    pub tokens: Vec<String>,
    /// Token ids.
    pub ids: Vec<u32>,
    /// Character `[start, end)` into the text; `None` for special tokens.
    pub offsets: Vec<Option<(usize, usize)>>,
    /// Pre-tokenizer word index; `None` for special tokens.
    pub word_ids: Vec<Option<u32>>,
    /// The hidden-state indices in `states`, as requested.
    pub layers: Vec<usize>,
    /// Hidden width.
    pub hidden: usize,
    /// One `[tokens × hidden]` row-major matrix per requested layer.
    pub states: Vec<Vec<f32>>,
}

impl TextEmbedding {
    /// Vector of token `t` in requested layer slot `slot`.
    pub fn vector(&self, slot: usize, t: usize) -> &[f32] {
        &self.states[slot][t * self.hidden..(t + 1) * self.hidden]
    }
}

struct Job {
    text: usize,
    window: Window,
    first: bool,
    last: bool,
    ids: Vec<u32>,
}

/// The window plan used when `options.window` is `None`: the model's longest input (specials
/// excluded), consecutive windows sharing a quarter of it.
pub fn default_window(model: &Pretrained) -> WindowConfig {
    let capacity = model.config.max_sequence_length().saturating_sub(model.tokenizer.num_special()).max(1);
    WindowConfig { capacity, overlap: capacity / 4 }
}

/// Embeds `texts`. Long texts are windowed, never truncated; every token of every text appears
/// exactly once in the output.
pub async fn embed_texts(
    model: &Pretrained,
    texts: &[&str],
    options: &EmbedOptions,
    device: &Device,
) -> Result<Vec<TextEmbedding>> {
    let num_states = model.config.num_hidden_layers + 1;
    if let Some(&bad) = options.layers.iter().find(|&&l| l >= num_states) {
        return Err(ModelError::Invalid(format!(
            "layer {bad} does not exist: the model has hidden states 0..={}",
            num_states - 1
        )));
    }
    let window = options.window.unwrap_or_else(|| default_window(model));
    let limit = model.config.max_sequence_length();
    if window.capacity + model.tokenizer.num_special() > limit {
        return Err(ModelError::Invalid(format!(
            "window of {} tokens plus {} special tokens exceeds the model's {limit} positions",
            window.capacity,
            model.tokenizer.num_special()
        )));
    }
    let hidden = model.config.hidden_size;
    let tok = &model.tokenizer;
    let (pre, suf) = (tok.prefix().len(), tok.suffix().len());

    let tokenized: Vec<TokenizedText> = texts.iter().map(|t| tok.tokenize(t)).collect::<Result<_>>()?;
    let mut out: Vec<TextEmbedding> = tokenized.iter().map(|t| skeleton(t, model, options)).collect();
    let mut jobs = Vec::new();
    for (i, t) in tokenized.iter().enumerate() {
        let windows = window.plan(t.len());
        let count = windows.len();
        for (k, w) in windows.into_iter().enumerate() {
            let ids = tok.wrap(&t.ids[w.span.clone()]);
            jobs.push(Job { text: i, window: w, first: k == 0, last: k + 1 == count, ids });
        }
    }
    // Longest first, so each batch pads little.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.ids.len()));

    for chunk in jobs.chunks(options.batch_size.max(1)) {
        let rows: Vec<Vec<u32>> = chunk.iter().map(|j| j.ids.clone()).collect();
        let batch = TokenBatch::right_padded(&rows, model.config.pad_token_id as u32);
        let output = model.encoder.forward(batch.to_input(&model.config, device));
        let picked: Vec<Tensor<3>> = options.layers.iter().map(|&l| output.hidden_states[l].clone()).collect();
        let values = read_f32(Tensor::stack::<4>(picked, 0)).await?;
        let (b, s) = (batch.batch, batch.seq);
        for (row, job) in chunk.iter().enumerate() {
            let dst = &mut out[job.text];
            // Rows of this window to keep: (source position, destination token index).
            let mut keep: Vec<(usize, usize)> = Vec::new();
            if job.first {
                keep.extend((0..pre).map(|p| (p, p)));
            }
            for t in job.window.owned.clone() {
                keep.push((pre + t - job.window.span.start, pre + t));
            }
            if job.last {
                let n = tokenized[job.text].len();
                let src0 = pre + job.window.span.len();
                keep.extend((0..suf).map(|k| (src0 + k, pre + n + k)));
            }
            for (slot, states) in dst.states.iter_mut().enumerate() {
                for &(src, to) in &keep {
                    let from = ((slot * b + row) * s + src) * hidden;
                    states[to * hidden..(to + 1) * hidden].copy_from_slice(&values[from..from + hidden]);
                }
            }
        }
    }
    Ok(out)
}

fn skeleton(t: &TokenizedText, model: &Pretrained, options: &EmbedOptions) -> TextEmbedding {
    let tok = &model.tokenizer;
    let n = t.len() + tok.num_special();
    let specials = |s: &[(u32, String)]| s.to_vec();
    let (pre, suf) = (specials(tok.prefix()), specials(tok.suffix()));
    let mut e = TextEmbedding {
        tokens: Vec::with_capacity(n),
        ids: Vec::with_capacity(n),
        offsets: Vec::with_capacity(n),
        word_ids: Vec::with_capacity(n),
        layers: options.layers.clone(),
        hidden: model.config.hidden_size,
        states: vec![vec![0.0; n * model.config.hidden_size]; options.layers.len()],
    };
    for (id, token) in &pre {
        e.push_special(*id, token);
    }
    for i in 0..t.len() {
        e.ids.push(t.ids[i]);
        e.tokens.push(t.tokens[i].clone());
        e.offsets.push(Some(t.offsets[i]));
        e.word_ids.push(t.word_ids[i]);
    }
    for (id, token) in &suf {
        e.push_special(*id, token);
    }
    e
}

impl TextEmbedding {
    fn push_special(&mut self, id: u32, token: &str) {
        self.ids.push(id);
        self.tokens.push(token.to_string());
        self.offsets.push(None);
        self.word_ids.push(None);
    }
}

/// Reads a float tensor back to the host (asynchronously, as the browser requires).
pub async fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    let data = t.into_data_async().await.map_err(|e| ModelError::Readback(format!("{e:?}")))?;
    data.try_into_vec::<f32>().map_err(|e| ModelError::Readback(format!("{e:?}")))
}

/// Runs a future to completion on the current thread (native callers of the async API).
#[cfg(not(target_family = "wasm"))]
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}
