//! The library's one error type: every failure names the file (or input) and the field at fault.

use thiserror::Error;

/// Errors raised while reading checkpoints, configurations, tokenizers or inputs.
#[derive(Debug, Error)]
pub enum ModelError {
    /// `config.json` is missing, unreadable, or a field has the wrong value.
    #[error("{file}: {message}")]
    Config {
        /// The file being read (e.g. `config.json`).
        file: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A weights file is truncated or corrupt, or its tensors do not fit the model.
    #[error("{file}: {message}")]
    Weights {
        /// The weights file (e.g. `model.safetensors`).
        file: String,
        /// What is wrong, naming the tensor(s).
        message: String,
    },
    /// The tokenizer cannot be read or does not fit the model.
    #[error("{file}: {message}")]
    Tokenizer {
        /// The tokenizer file (e.g. `tokenizer.json`).
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A required file is missing from a model directory.
    #[error("{dir}: no {what} found (looked for {looked_for})")]
    MissingFile {
        /// The directory that was searched.
        dir: String,
        /// What kind of file was wanted.
        what: &'static str,
        /// The file names that were tried.
        looked_for: String,
    },
    /// I/O failure on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The path being read or written.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A tensor could not be read back from the device.
    #[error("reading a tensor back from the device failed: {0}")]
    Readback(String),
    /// The requested device is not available in this build or on this machine.
    #[error("device `{name}` is not available: {reason}")]
    Device {
        /// The name that was asked for.
        name: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// An argument is out of its valid range.
    #[error("{0}")]
    Invalid(String),
}

impl ModelError {
    pub(crate) fn config(file: &str, message: impl Into<String>) -> Self {
        Self::Config { file: file.to_string(), message: message.into() }
    }
    pub(crate) fn weights(file: &str, message: impl Into<String>) -> Self {
        Self::Weights { file: file.to_string(), message: message.into() }
    }
    pub(crate) fn tokenizer(file: &str, message: impl Into<String>) -> Self {
        Self::Tokenizer { file: file.to_string(), message: message.into() }
    }
}

/// Result alias for this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
