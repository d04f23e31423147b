//! Token-classification heads on frozen encoder features: a linear probe (the paper's main
//! protocol) and a two-layer MLP (its LLM comparison), plus the features they read and the
//! file they are saved in.

pub mod features;
pub mod labels;
pub mod saved;

use burn::nn::{Dropout, DropoutConfig, Gelu, Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

pub use features::{FeatureConfig, Pooling, WordFeatures};
pub use labels::LabelSet;
pub use saved::SavedHead;

/// The head's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HeadKind {
    /// One linear layer: features → tag logits.
    #[default]
    Linear,
    /// Linear → GELU → dropout → linear.
    Mlp,
}

/// Shape of a head.
#[derive(Config, Debug)]
pub struct HeadConfig {
    /// Architecture.
    pub kind: HeadKind,
    /// Feature width.
    pub d_in: usize,
    /// Number of tags (`2 × types + 1`).
    pub n_tags: usize,
    /// MLP hidden width. Default 256.
    #[config(default = 256)]
    pub hidden: usize,
    /// MLP dropout during training. Default 0.1.
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl HeadConfig {
    /// Builds a randomly initialised head.
    pub fn init(&self, device: &Device) -> Head {
        match self.kind {
            HeadKind::Linear => Head::Linear(LinearConfig::new(self.d_in, self.n_tags).init(device)),
            HeadKind::Mlp => Head::Mlp(MlpHead {
                hidden: LinearConfig::new(self.d_in, self.hidden).init(device),
                activation: Gelu::new(),
                dropout: DropoutConfig::new(self.dropout).init(),
                output: LinearConfig::new(self.hidden, self.n_tags).init(device),
            }),
        }
    }
}

/// A two-layer perceptron head.
#[derive(Module, Debug)]
pub struct MlpHead {
    /// First layer.
    pub hidden: Linear,
    /// Non-linearity.
    pub activation: Gelu,
    /// Dropout (training only).
    pub dropout: Dropout,
    /// Output layer.
    pub output: Linear,
}

/// A token-classification head.
#[derive(Module, Debug)]
pub enum Head {
    /// Linear probe.
    Linear(Linear),
    /// Two-layer MLP.
    Mlp(MlpHead),
}

impl Head {
    /// Tag logits.
    ///
    /// # Shapes
    /// - `features`: `[words, d_in]`
    /// - output: `[words, n_tags]`
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        match self {
            Head::Linear(l) => l.forward(features),
            Head::Mlp(m) => {
                let h = m.dropout.forward(m.activation.forward(m.hidden.forward(features)));
                m.output.forward(h)
            }
        }
    }

    /// The architecture.
    pub fn kind(&self) -> HeadKind {
        match self {
            Head::Linear(_) => HeadKind::Linear,
            Head::Mlp(_) => HeadKind::Mlp,
        }
    }
}
