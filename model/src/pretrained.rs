//! A loaded model: configuration, encoder weights and tokenizer, checked against each other.
//!
//! Two on-disk layouts are accepted:
//! - a Hugging Face checkpoint directory: `config.json`, `model.safetensors` or
//!   `pytorch_model.bin`, `tokenizer.json`;
//! - our converted form (`nuner convert`): `config.json`, `model.bpk` (burnpack, f32 or f16),
//!   `tokenizer.json` — what the browser downloads.
//!
//! [`Pretrained::from_files`] takes bytes, so the browser and the CLI share it.

use burn::prelude::*;

use crate::config::EncoderConfig;
use crate::encoder::Encoder;
use crate::error::{ModelError, Result};
use crate::tokenize::NerTokenizer;
use crate::weights;

/// File names inside a model directory.
pub mod names {
    /// Hugging Face configuration.
    pub const CONFIG: &str = "config.json";
    /// Tokenizer.
    pub const TOKENIZER: &str = "tokenizer.json";
    /// Hugging Face safetensors weights.
    pub const SAFETENSORS: &str = "model.safetensors";
    /// Hugging Face PyTorch pickle weights.
    pub const PYTORCH: &str = "pytorch_model.bin";
    /// Our burnpack weights.
    pub const BURNPACK: &str = "model.bpk";
}

/// Encoder weights in one of the supported encodings.
#[derive(Debug, Clone)]
pub enum Weights {
    /// Hugging Face `model.safetensors` bytes.
    Safetensors(Vec<u8>),
    /// Our `model.bpk` bytes.
    Burnpack(Vec<u8>),
    /// A Hugging Face `pytorch_model.bin` on disk (burn-store reads it by path).
    #[cfg(feature = "pytorch")]
    PytorchFile(std::path::PathBuf),
}

/// The raw files of a model.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// `config.json` bytes.
    pub config: Vec<u8>,
    /// `tokenizer.json` bytes.
    pub tokenizer: Vec<u8>,
    /// The weights.
    pub weights: Weights,
    /// A display name (directory or URL); prefixes file names in error messages.
    pub name: String,
}

/// A ready-to-run model.
#[derive(Debug, Clone)]
pub struct Pretrained {
    /// Display name.
    pub name: String,
    /// Encoder shape.
    pub config: EncoderConfig,
    /// The encoder, on the device it was loaded on.
    pub encoder: Encoder,
    /// Its tokenizer.
    pub tokenizer: NerTokenizer,
    /// Identity of the weights (see [`weights::fingerprint`]); equal for f32 and f16 copies.
    pub fingerprint: String,
}

impl Pretrained {
    /// Builds a model from its files. Errors name the file and the field or tensor at fault.
    pub fn from_files(files: ModelFiles, device: &Device) -> Result<Self> {
        let path = |file: &str| format!("{}/{}", files.name, file);
        let config = EncoderConfig::from_json_bytes(&files.config, &path(names::CONFIG))?;
        let tokenizer = NerTokenizer::from_bytes(&files.tokenizer, &path(names::TOKENIZER))?;
        if let Some(max_id) = tokenizer.max_id() {
            if max_id as usize >= config.vocab_size {
                return Err(ModelError::Tokenizer {
                    file: path(names::TOKENIZER),
                    message: format!(
                        "the vocabulary has ids up to {max_id}, but the embeddings have {} rows \
                         (`vocab_size` in {}): tokenizer and model do not belong together",
                        config.vocab_size,
                        names::CONFIG
                    ),
                });
            }
        }
        let mut encoder = config.init(device);
        let fingerprint = match files.weights {
            Weights::Safetensors(bytes) => {
                weights::load_hf_safetensors(&mut encoder, bytes, &path(names::SAFETENSORS))?
            }
            Weights::Burnpack(bytes) => weights::load_burnpack(&mut encoder, bytes, &path(names::BURNPACK))?,
            #[cfg(feature = "pytorch")]
            Weights::PytorchFile(file) => weights::load_hf_pytorch(&mut encoder, &file)?,
        };
        Ok(Self { name: files.name, config, encoder, tokenizer, fingerprint })
    }

    /// Our converted form: `(file name, bytes)` for `config.json`, `model.bpk`, `tokenizer.json`.
    pub fn to_converted(&self, tokenizer_json: Vec<u8>, half: bool) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            (names::CONFIG, self.config.to_json_bytes()),
            (names::BURNPACK, weights::save_burnpack(&self.encoder, half)?),
            (names::TOKENIZER, tokenizer_json),
        ])
    }
}

#[cfg(not(target_family = "wasm"))]
mod fs {
    use super::*;
    use std::path::Path;

    fn read(path: &Path) -> Result<Vec<u8>> {
        std::fs::read(path).map_err(|source| ModelError::Io { path: path.display().to_string(), source })
    }

    impl ModelFiles {
        /// Reads a model directory (Hugging Face or converted). Prefers `model.bpk`, then
        /// `model.safetensors`, then `pytorch_model.bin`.
        pub fn from_dir(dir: &Path) -> Result<Self> {
            let name = dir.display().to_string();
            if !dir.is_dir() {
                return Err(ModelError::Io {
                    path: name,
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
                });
            }
            let need = |file: &str, what: &'static str| {
                let p = dir.join(file);
                if p.is_file() {
                    read(&p)
                } else {
                    Err(ModelError::MissingFile { dir: name.clone(), what, looked_for: file.into() })
                }
            };
            let config = need(names::CONFIG, "configuration")?;
            let tokenizer = need(names::TOKENIZER, "tokenizer")?;
            let weights = if dir.join(names::BURNPACK).is_file() {
                Weights::Burnpack(read(&dir.join(names::BURNPACK))?)
            } else if dir.join(names::SAFETENSORS).is_file() {
                Weights::Safetensors(read(&dir.join(names::SAFETENSORS))?)
            } else if cfg!(feature = "pytorch") && dir.join(names::PYTORCH).is_file() {
                #[cfg(feature = "pytorch")]
                {
                    Weights::PytorchFile(dir.join(names::PYTORCH))
                }
                #[cfg(not(feature = "pytorch"))]
                unreachable!()
            } else {
                return Err(ModelError::MissingFile {
                    dir: name,
                    what: "weights",
                    looked_for: format!("{}, {}, {}", names::BURNPACK, names::SAFETENSORS, names::PYTORCH),
                });
            };
            Ok(Self { config, tokenizer, weights, name })
        }
    }

    impl Pretrained {
        /// Loads a model directory (see [`ModelFiles::from_dir`]).
        pub fn from_dir(dir: &Path, device: &Device) -> Result<Self> {
            Self::from_files(ModelFiles::from_dir(dir)?, device)
        }
    }
}
