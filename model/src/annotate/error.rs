//! The annotation layer's error: every failure names the file (or the server) and the line or
//! field at fault. The API key never appears in one (see [`super::client`]).

use thiserror::Error;

/// A malformed template, input or output file, a run that does not match its output, or a
/// server that cannot be used.
#[derive(Debug, Error)]
pub enum AnnotateError {
    /// The prompt template is malformed (unknown placeholder, no `{sentence}`).
    #[error("{file}:{line}: {message}")]
    Template {
        /// The template file, as named by the caller.
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A line of the input corpus cannot be read (bad UTF-8, bad JSON, missing text field).
    #[error("{file}:{line}: {message}")]
    Input {
        /// The input file, as named by the caller.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A complete line of an existing output (or skipped) file is not one this tool wrote.
    #[error("{file}:{line}: {message}")]
    Output {
        /// The output file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The output belongs to another run (input, prompt, model or matching options changed),
    /// or another process is writing it.
    #[error("{file}: {message}")]
    Resume {
        /// The output file.
        file: String,
        /// What does not match, and what to do.
        message: String,
    },
    /// An option has an unusable value (e.g. an endpoint that is not an http(s) URL).
    #[error("{option}: {message}")]
    Option {
        /// The option, e.g. `--endpoint`.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// The server answered in a way that stops the run (authentication, unknown model or URL,
    /// persistent failures). The message includes the server's own words, with the key redacted.
    #[error("{url}: {message}")]
    Server {
        /// The chat-completions URL.
        url: String,
        /// What happened.
        message: String,
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
}

impl AnnotateError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io { path: path.as_ref().display().to_string(), source }
    }
}
