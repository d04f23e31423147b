//! Tokenisation with exact character offsets, and windows for texts longer than the model.
//!
//! [`words`] (word segmentation) is plain Rust and always built; the sub-word tokenizer and its
//! windows need the `model` feature (the browser's UI build leaves them out, see app/Cargo.toml).

#[cfg(feature = "model")]
mod tokenizer;
#[cfg(feature = "model")]
pub mod window;
pub mod words;

#[cfg(feature = "model")]
pub use tokenizer::{NerTokenizer, TokenizedText};
