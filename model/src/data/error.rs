//! The data layer's error: every failure names the file (the `name` given to the reader) and the
//! 1-based line, or the record of a JSON array, or the example being written.

use thiserror::Error;

/// A malformed input file or an example that cannot be written.
///
/// Its `Display` is the text a lenient reader puts in its warnings, e.g.
/// `wnut17/train.txt:123: bad tag "B_PER" (expected O, B-TYPE or I-TYPE)`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DataError {
    /// A line of a line-based file (CoNLL, JSON lines) is malformed.
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file, as named by the caller.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A record of a JSON array (GLiNER `[{...}, ...]`) is malformed.
    #[error("{file}: record {index}: {message}")]
    Record {
        /// The file, as named by the caller.
        file: String,
        /// 0-based index of the record in the array (as Python indexes the list).
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// An example cannot be written in the requested format.
    #[error("example {index}: {message}")]
    Example {
        /// 0-based index of the example in the slice given to the writer.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

impl DataError {
    pub(crate) fn line(file: &str, line: usize, message: impl Into<String>) -> Self {
        Self::Line { file: file.to_string(), line, message: message.into() }
    }
    pub(crate) fn record(file: &str, index: usize, message: impl Into<String>) -> Self {
        Self::Record { file: file.to_string(), index, message: message.into() }
    }
    pub(crate) fn example(index: usize, message: impl Into<String>) -> Self {
        Self::Example { index, message: message.into() }
    }
}

/// Keeps the good items of a lenient read and turns the bad ones into warnings; in strict
/// mode the first bad item is the error.
pub(crate) struct Collector {
    pub lenient: bool,
    pub warnings: Vec<String>,
}

impl Collector {
    pub fn new(lenient: bool) -> Self {
        Self { lenient, warnings: Vec::new() }
    }
    /// `Ok(())` when the item may be skipped (lenient), else the error.
    pub fn reject(&mut self, error: DataError) -> Result<(), DataError> {
        if self.lenient {
            self.warnings.push(error.to_string());
            Ok(())
        } else {
            Err(error)
        }
    }
}
