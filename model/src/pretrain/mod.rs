//! NuNER pre-training (paper §3): a text encoder learns token vectors that align, by dot
//! product and sigmoid, with the vectors a concept encoder gives to the names of the concepts an
//! LLM found in the sentence.
//!
//! | step | module |
//! |---|---|
//! | read annotated sentences (NuNER CSV, GLiNER/Pile-NER JSON, our JSON lines, CoNLL) | [`read_data_file`], [`nuner_csv`], [`pool`] |
//! | sentences → token ids, concept targets, concept names | [`batch`] |
//! | two towers, logits, masked BCE | [`model`] |
//! | AdamW, schedule, clipping, freezing, one step at a time | [`trainer`] |
//! | data-parallel steps over several devices (native) | [`parallel`] |
//! | checkpoints, metrics, resume, Hugging Face output (native) | [`checkpoint`], [`run`] |
//! | zero-shot tagging from type names with the kept concept tower | [`zeroshot`] |
//!
//! Everything but the file handling takes bytes, as the rest of the crate.

pub mod batch;
pub mod checkpoint;
pub mod error;
pub mod model;
pub mod nuner_csv;
#[cfg(not(target_family = "wasm"))]
pub mod parallel;
pub mod pool;
#[cfg(not(target_family = "wasm"))]
pub mod run;
pub mod trainer;
pub mod zeroshot;

pub use batch::{make_batch, BatchPlan, ConceptBatch, DataPosition};
pub use checkpoint::{Checkpoint, CheckpointState};
pub use error::PretrainError;
pub use model::{concept_bce, ConceptInput, ConceptModel, ConceptModelConfig};
pub use nuner_csv::{read_nuner_csv, CsvStats, NunerCsv};
pub use trainer::{Decay, PretrainConfig, Pretrainer, StepReport};
pub use zeroshot::ZeroShot;

use crate::annotate::{read_annotated, Occurrences};
use crate::data::{detect_format, Example, Format};

/// The examples of one pre-training file, by content and name:
///
/// | file | read as | spans |
/// |---|---|---|
/// | `*.csv` | NuNER CSV ([`nuner_csv`], all occurrences) | may overlap |
/// | GLiNER / Pile-NER JSON (array or lines with `tokenized_text`) | [`crate::data::gliner::read_nested`] | may overlap |
/// | JSON lines `{"text", "spans"}` (`nuner annotate`, `nuner pool`) | [`crate::annotate::read_annotated`] | may overlap |
/// | anything else | CoNLL, labels renamed by [`pool::natural_label`] | flat |
///
/// Sentences without spans are kept from JSON lines and GLiNER files (their tokens are
/// negatives for the batch's concepts) and dropped from CSV (see [`nuner_csv`]).
pub fn read_data_file(bytes: &[u8], name: &str) -> Result<Vec<Example>, PretrainError> {
    if name.to_ascii_lowercase().ends_with(".csv") {
        return read_nuner_csv(bytes, name, Occurrences::All)?.collect();
    }
    match detect_format(bytes, name) {
        Format::Gliner => Ok(crate::data::gliner::read_nested(bytes, name, false)?.examples),
        Format::Jsonl => Ok(read_annotated(bytes, name)?.iter().map(|s| s.to_example()).collect()),
        Format::Conll(_) => pool::read_source(bytes, name),
    }
}
