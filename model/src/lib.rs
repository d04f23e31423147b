//! nuner: NuNER (Bogdanov et al., EMNLP 2024) in Rust on Burn.
//!
//! A BERT/RoBERTa encoder that loads Hugging Face checkpoints and matches PyTorch, a tokenizer
//! with exact character offsets and windowing for long texts, and the pieces built on them.
//! Shared code takes bytes, not paths, so the same code runs natively and in the browser.
//!
//! Shapes are written `[batch, seq, hidden]`; "token" means a sub-word of the tokenizer.
#![warn(missing_docs)]

pub mod annotate;
pub mod config;
pub mod data;
pub mod decode;
pub mod device;
pub mod embed;
pub mod encoder;
pub mod error;
pub mod heads;
pub mod loss;
pub mod metrics;
pub mod pipeline;
pub mod pretrain;
pub mod pretrained;
pub mod tokenize;
pub mod tuned;
pub mod train;
pub mod weights;

pub use config::{EncoderConfig, HiddenAct, ModelType};
pub use embed::{embed_texts, EmbedOptions, TextEmbedding};
pub use encoder::{Encoder, EncoderInput, EncoderOutput, TokenBatch};
pub use error::{ModelError, Result};
pub use pretrained::{ModelFiles, Pretrained, Weights};
pub use tokenize::NerTokenizer;
