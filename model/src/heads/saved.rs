//! A trained head as one small JSON file: weights, labels, the feature recipe and the identity
//! of the encoder it belongs to. The CLI and the browser read and write the same file.

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Gelu, Linear};
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::{FeatureConfig, Head, HeadKind, LabelSet, MlpHead};
use crate::embed::read_f32;
use crate::error::{ModelError, Result};
use crate::pretrained::Pretrained;

const FORMAT: &str = "nuner-head";
const VERSION: u32 = 1;

/// The encoder a head was trained on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderId {
    /// Where the encoder was loaded from, for people.
    pub name: String,
    /// [`crate::weights::fingerprint`] of its weights.
    pub fingerprint: String,
    /// Hidden width.
    pub hidden_size: usize,
    /// Number of layers.
    pub num_hidden_layers: usize,
    /// Whether its linear layers ran in 8 bits ([`crate::encoder::kernels::set_int8`]) when the
    /// head was trained: such features differ slightly from f32's. Absent (false) in older files.
    #[serde(default)]
    pub int8: bool,
}

/// One dense layer, `y = x · weight + bias` with `weight` row-major `[d_in × d_out]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Input width.
    pub d_in: usize,
    /// Output width.
    pub d_out: usize,
    /// `d_in × d_out` values.
    pub weight: Vec<f32>,
    /// `d_out` values.
    pub bias: Vec<f32>,
}

/// The saved form of a head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedHead {
    /// Always `"nuner-head"`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The encoder whose features the head reads.
    pub encoder: EncoderId,
    /// How features are made.
    pub features: FeatureConfig,
    /// Entity types (tags are `O`, `B-T`, `I-T`).
    pub labels: LabelSet,
    /// Architecture.
    pub kind: HeadKind,
    /// Dense layers, input first (one for a linear head, two for an MLP).
    pub layers: Vec<Dense>,
    /// Free-form record of how it was trained (data, k, seed, epochs, loss).
    #[serde(default)]
    pub training: serde_json::Value,
}

async fn dense(linear: &Linear) -> Result<Dense> {
    let [d_in, d_out] = linear.weight.dims();
    let weight = read_f32(linear.weight.val()).await?;
    let bias = match &linear.bias {
        Some(b) => read_f32(b.val()).await?,
        None => vec![0.0; d_out],
    };
    Ok(Dense { d_in, d_out, weight, bias })
}

fn linear(d: &Dense, device: &Device) -> Linear {
    let weight = Tensor::<2>::from_data(TensorData::new(d.weight.clone(), [d.d_in, d.d_out]), device);
    let bias = Tensor::<1>::from_data(TensorData::new(d.bias.clone(), [d.d_out]), device);
    Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)) }
}

impl SavedHead {
    /// Captures a trained head (reads its weights back from the device).
    pub async fn capture(
        head: &Head,
        model: &Pretrained,
        features: FeatureConfig,
        labels: LabelSet,
        training: serde_json::Value,
    ) -> Result<Self> {
        let layers = match head {
            Head::Linear(l) => vec![dense(l).await?],
            Head::Mlp(m) => vec![dense(&m.hidden).await?, dense(&m.output).await?],
        };
        Ok(Self {
            format: FORMAT.into(),
            version: VERSION,
            encoder: EncoderId {
                name: model.name.clone(),
                fingerprint: model.fingerprint.clone(),
                hidden_size: model.config.hidden_size,
                num_hidden_layers: model.config.num_hidden_layers,
                int8: features_int8(model),
            },
            features,
            labels,
            kind: head.kind(),
            layers,
            training,
        })
    }

    /// Parses and checks a saved head. `file` names it in errors.
    pub fn from_json_bytes(bytes: &[u8], file: &str) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let head: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            ModelError::config(file, format!("field `{path}`: {}", e.into_inner()))
        })?;
        head.validate(file)?;
        Ok(head)
    }

    /// Serialises as JSON.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a head serialises")
    }

    fn validate(&self, file: &str) -> Result<()> {
        let bad = |m: String| Err(ModelError::config(file, m));
        if self.format != FORMAT || self.version != VERSION {
            return bad(format!("field `format`/`version`: not a {FORMAT} v{VERSION} file"));
        }
        let want_layers = match self.kind {
            HeadKind::Linear => 1,
            HeadKind::Mlp => 2,
        };
        if self.layers.len() != want_layers {
            return bad(format!("field `layers`: a {:?} head has {want_layers} layer(s), found {}", self.kind, self.layers.len()));
        }
        let d_in = self.features.dim(self.encoder.hidden_size);
        if self.layers[0].d_in != d_in {
            return bad(format!("field `layers[0].d_in` is {}, the features have {d_in}", self.layers[0].d_in));
        }
        if self.layers[self.layers.len() - 1].d_out != self.labels.num_tags() {
            return bad(format!("field `layers`: output width is not {} tags", self.labels.num_tags()));
        }
        for (i, d) in self.layers.iter().enumerate() {
            if d.weight.len() != d.d_in * d.d_out || d.bias.len() != d.d_out {
                return bad(format!("field `layers[{i}]`: weight/bias sizes do not match d_in × d_out"));
            }
            if i > 0 && d.d_in != self.layers[i - 1].d_out {
                return bad(format!("field `layers[{i}].d_in` does not follow the previous layer"));
            }
        }
        if let Some(&l) = self.features.layers.iter().find(|&&l| l > self.encoder.num_hidden_layers) {
            return bad(format!("field `features.layers`: layer {l} exceeds the encoder's layers"));
        }
        Ok(())
    }

    /// Refuses an encoder other than the one the head was trained on.
    pub fn check_encoder(&self, model: &Pretrained, file: &str) -> Result<()> {
        if self.encoder.fingerprint != model.fingerprint {
            return Err(ModelError::config(
                file,
                format!(
                    "field `encoder`: the head was trained on `{}` (fingerprint {}), not on `{}` \
                     (fingerprint {}); its features would mean something else",
                    self.encoder.name, self.encoder.fingerprint, model.name, model.fingerprint
                ),
            ));
        }
        Ok(())
    }

    /// A warning when `model` makes features in another precision than the head was trained on
    /// (8-bit or f32 linear layers): the head still works, on slightly different features.
    pub fn precision_note(&self, model: &Pretrained) -> Option<String> {
        let now = features_int8(model);
        let name = |int8: bool| if int8 { "8-bit" } else { "f32" };
        (self.encoder.int8 != now).then(|| {
            format!(
                "the head was trained on {} features and the encoder now runs in {} ({}); predictions may differ slightly",
                name(self.encoder.int8),
                name(now),
                if self.encoder.int8 { "pass --int8, or ?precision=int8 in the browser, to match" } else { "run without --int8, or ?precision=f32 in the browser, to match" }
            )
        })
    }

    /// Rebuilds the head module on `device`.
    pub fn to_head(&self, device: &Device) -> Head {
        match self.kind {
            HeadKind::Linear => Head::Linear(linear(&self.layers[0], device)),
            HeadKind::Mlp => Head::Mlp(MlpHead {
                hidden: linear(&self.layers[0], device),
                activation: Gelu::new(),
                dropout: no_dropout(),
                output: linear(&self.layers[1], device),
            }),
        }
    }
}

/// Whether `model`'s encoder makes its features with 8-bit linear layers now.
fn features_int8(model: &Pretrained) -> bool {
    crate::encoder::kernels::int8_on(&model.encoder.embeddings.word_embeddings.weight.device())
}

fn no_dropout() -> Dropout {
    DropoutConfig::new(0.0).init()
}
