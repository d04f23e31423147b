//! nuner: NuNER (Bogdanov et al., EMNLP 2024) in Rust on Burn.
//!
//! A BERT/RoBERTa encoder that loads Hugging Face checkpoints and matches PyTorch, a tokenizer
//! with exact character offsets and windowing for long texts, and the pieces built on them.
//! Shared code takes bytes, not paths, so the same code runs natively and in the browser.
//! Without the `model` feature the crate is its plain-Rust parts only ([`data`], [`metrics`],
//! [`tokenize::words`]): the browser's UI uses them without compiling Burn.
//!
//! Shapes are written `[batch, seq, hidden]`; "token" means a sub-word of the tokenizer.
#![warn(missing_docs)]

// Plain Rust, always built: what the browser's UI needs (spans, formats, word segmentation,
// scores) without Burn.
pub mod data;
pub mod metrics;
pub mod tokenize;

// Everything that runs the model (the `model` feature, which every backend feature turns on).
#[cfg(feature = "model")]
pub mod annotate;
#[cfg(feature = "model")]
pub mod config;
#[cfg(feature = "model")]
pub mod decode;
#[cfg(feature = "model")]
pub mod device;
#[cfg(feature = "model")]
pub mod embed;
#[cfg(feature = "model")]
pub mod encoder;
#[cfg(feature = "model")]
pub mod error;
#[cfg(feature = "model")]
pub mod heads;
#[cfg(feature = "model")]
pub mod loss;
#[cfg(feature = "model")]
pub mod pipeline;
#[cfg(feature = "model")]
pub mod pretrain;
#[cfg(feature = "model")]
pub mod pretrained;
#[cfg(feature = "model")]
pub mod tuned;
#[cfg(feature = "model")]
pub mod train;
#[cfg(feature = "model")]
pub mod weights;

#[cfg(feature = "model")]
pub use crate::{
    config::{EncoderConfig, HiddenAct, ModelType},
    embed::{embed_texts, EmbedOptions, TextEmbedding},
    encoder::{Encoder, EncoderInput, EncoderOutput, TokenBatch},
    error::{ModelError, Result},
    pretrained::{ModelFiles, Pretrained, Weights},
    tokenize::NerTokenizer,
};
