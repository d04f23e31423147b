//! Training: heads on cached features (shared by the CLI and the browser) and the paper's
//! k-shot sampling.

pub mod head;
mod linear;
pub mod sample;
pub mod tune;

pub use head::{train_head, HeadTrainingConfig, TrainProgress, TrainReport, TrainSet};
pub use sample::{sample_k_shot, sample_k_to_2k};
pub use tune::{tune_top_layers, TuneConfig};
