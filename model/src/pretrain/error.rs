//! The pre-training layer's error: every failure names the file (and line) or the checkpoint
//! at fault.

use thiserror::Error;

use crate::annotate::AnnotateError;
use crate::data::DataError;
use crate::error::ModelError;

/// A malformed data file, an unusable checkpoint, or a model that cannot be built.
#[derive(Debug, Error)]
pub enum PretrainError {
    /// A line of an input file is malformed (`file:line: message`).
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file, as named by the caller.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A file is unusable as a whole (missing column, bad JSON array).
    #[error("{file}: {message}")]
    File {
        /// The file, as named by the caller.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A CoNLL, JSON lines or GLiNER file from the data layer.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A JSON lines file of (possibly overlapping) spans.
    #[error(transparent)]
    Annotated(#[from] AnnotateError),
    /// Loading or saving the encoders.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A checkpoint cannot be written, read, or does not belong to this run.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint directory or file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// I/O on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The path being read or written.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A setting is out of its valid range, or there is nothing to train on.
    #[error("{0}")]
    Invalid(String),
}

impl PretrainError {
    pub(crate) fn line(file: &str, line: usize, message: impl Into<String>) -> Self {
        Self::Line { file: file.to_string(), line, message: message.into() }
    }
    pub(crate) fn checkpoint(path: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Self::Checkpoint { path: path.to_string(), message: message.into() }
    }
    #[cfg(not(target_family = "wasm"))]
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io { path: path.as_ref().display().to_string(), source }
    }
}
