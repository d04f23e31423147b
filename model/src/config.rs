//! Encoder hyper-parameters, read from (and written as) a Hugging Face `config.json`.
//!
//! Only the fields the encoder needs are kept; unknown keys are ignored, as transformers does.
//! Values are checked here so that a bad file fails with the field's name, not deep in `init`.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// The two encoder families we load. NuNER v1.0/v2.0 are RoBERTa-base; all-MiniLM-L6-v2 is BERT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelType {
    /// BERT: absolute positions `0..T`.
    Bert,
    /// RoBERTa: positions count non-pad tokens and start at `pad_token_id + 1`.
    Roberta,
}

/// Activation of the feed-forward block (`hidden_act` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenAct {
    /// Exact GELU, `x * Φ(x)` with erf (transformers' `"gelu"`).
    Gelu,
    /// tanh approximation (transformers' `"gelu_new"` / `"gelu_pytorch_tanh"`).
    #[serde(alias = "gelu_pytorch_tanh")]
    GeluNew,
    /// ReLU.
    Relu,
}

fn default_pad() -> usize {
    0
}
fn default_act() -> HiddenAct {
    HiddenAct::Gelu
}
fn default_type_vocab() -> usize {
    2
}
fn default_dropout() -> f64 {
    0.1
}
fn default_eps() -> f64 {
    1e-12
}
fn default_position_type() -> String {
    "absolute".into()
}

/// A BERT/RoBERTa encoder's shape, as in Hugging Face `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// `"bert"` or `"roberta"`.
    pub model_type: ModelType,
    /// Rows of the word-embedding matrix.
    pub vocab_size: usize,
    /// Width of every hidden state.
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer; must divide `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward block.
    pub intermediate_size: usize,
    /// Rows of the position-embedding matrix (RoBERTa: usable positions + pad id + 1).
    pub max_position_embeddings: usize,
    /// Rows of the token-type embedding matrix. Default 2.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon. Default 1e-12 (BERT); RoBERTa checkpoints say 1e-5.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Feed-forward activation. Default exact GELU.
    #[serde(default = "default_act")]
    pub hidden_act: HiddenAct,
    /// Padding token id. Default 0 (RoBERTa: 1).
    #[serde(default = "default_pad")]
    pub pad_token_id: usize,
    /// Only `"absolute"` is supported.
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
    /// Dropout after the embeddings and after each attention and feed-forward block, in
    /// training only (autodiff devices). Default 0.1, as transformers' `BertConfig`.
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
}

impl EncoderConfig {
    /// Parses and validates a Hugging Face `config.json`. `file` names the source in errors.
    pub fn from_json_bytes(bytes: &[u8], file: &str) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let config: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." || path.is_empty() {
                ModelError::config(file, format!("not a valid config: {inner}"))
            } else {
                ModelError::config(file, format!("field `{path}`: {inner}"))
            }
        })?;
        config.validate(file)?;
        Ok(config)
    }

    /// Serialises as a Hugging Face style `config.json` (loadable by [`Self::from_json_bytes`]).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut value = serde_json::to_value(self).expect("config serialises");
        if let Some(map) = value.as_object_mut() {
            let arch = match self.model_type {
                ModelType::Bert => "BertModel",
                ModelType::Roberta => "RobertaModel",
            };
            map.insert("architectures".into(), serde_json::json!([arch]));
        }
        serde_json::to_vec_pretty(&value).expect("config serialises")
    }

    fn validate(&self, file: &str) -> Result<()> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ModelError::config(file, format!("field `{field}` must be > 0")));
            }
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            return Err(ModelError::config(
                file,
                format!(
                    "field `num_attention_heads` ({}) must divide `hidden_size` ({})",
                    self.num_attention_heads, self.hidden_size
                ),
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(ModelError::config(
                file,
                format!(
                    "field `position_embedding_type`: `{}` is not supported (only `absolute`)",
                    self.position_embedding_type
                ),
            ));
        }
        if self.pad_token_id >= self.vocab_size {
            return Err(ModelError::config(file, "field `pad_token_id` is outside the vocabulary"));
        }
        if self.model_type == ModelType::Roberta && self.max_position_embeddings <= self.pad_token_id + 1
        {
            return Err(ModelError::config(
                file,
                "field `max_position_embeddings` leaves no position after `pad_token_id + 1`",
            ));
        }
        if !(self.layer_norm_eps > 0.0) {
            return Err(ModelError::config(file, "field `layer_norm_eps` must be > 0"));
        }
        Ok(())
    }

    /// The longest input (special tokens included) the position table allows.
    ///
    /// RoBERTa reserves the first `pad_token_id + 1` rows (HF `create_position_ids_from_input_ids`),
    /// so roberta-base's 514 rows give 512 positions.
    pub fn max_sequence_length(&self) -> usize {
        match self.model_type {
            ModelType::Bert => self.max_position_embeddings,
            ModelType::Roberta => self.max_position_embeddings - self.pad_token_id - 1,
        }
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"model_type":"bert","vocab_size":30522,"hidden_size":384,
        "num_hidden_layers":6,"num_attention_heads":12,"intermediate_size":1536,
        "max_position_embeddings":512,"layer_norm_eps":1e-12,"hidden_act":"gelu","pad_token_id":0,
        "use_cache":true}"#;

    #[test]
    fn reads_minilm_config_and_ignores_unknown_keys() {
        let c = EncoderConfig::from_json_bytes(MINILM.as_bytes(), "config.json").unwrap();
        assert_eq!(c.model_type, ModelType::Bert);
        assert_eq!(c.head_dim(), 32);
        assert_eq!(c.max_sequence_length(), 512);
    }

    #[test]
    fn roberta_positions_exclude_reserved_rows() {
        let json = MINILM
            .replace("\"bert\"", "\"roberta\"")
            .replace("512", "514")
            .replace("\"pad_token_id\":0", "\"pad_token_id\":1");
        let c = EncoderConfig::from_json_bytes(json.as_bytes(), "config.json").unwrap();
        assert_eq!(c.max_sequence_length(), 512);
    }

    #[test]
    fn round_trips_through_json() {
        let c = EncoderConfig::from_json_bytes(MINILM.as_bytes(), "config.json").unwrap();
        let again = EncoderConfig::from_json_bytes(&c.to_json_bytes(), "x").unwrap();
        assert_eq!(c, again);
    }

    #[test]
    fn errors_name_file_and_field() {
        let cases = [
            (MINILM.replace("\"bert\"", "\"gpt2\""), "model_type"),
            (MINILM.replace("\"hidden_size\":384,", ""), "hidden_size"),
            (MINILM.replace("\"num_attention_heads\":12", "\"num_attention_heads\":7"), "num_attention_heads"),
            (MINILM.replace("384", "\"wide\""), "hidden_size"),
            (MINILM.replace("\"gelu\"", "\"swish\""), "hidden_act"),
        ];
        for (json, field) in cases {
            let err = EncoderConfig::from_json_bytes(json.as_bytes(), "dir/config.json").unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with("dir/config.json: "), "{msg}");
            assert!(msg.contains(field), "{msg} should name {field}");
        }
        let err = EncoderConfig::from_json_bytes(b"{\"model_type\": \"bert\", ", "c.json").unwrap_err();
        assert!(err.to_string().starts_with("c.json: "), "{err}");
    }
}
