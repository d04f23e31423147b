//! One post-LayerNorm transformer layer: self-attention block, then feed-forward block.
//!
//! Mirrors transformers' `BertLayer` = `BertAttention` (`BertSelfAttention` + `BertSelfOutput`)
//! + `BertIntermediate` + `BertOutput` (src/transformers/models/bert/modeling_bert.py; RoBERTa's
//! layer is the same code). Each block is `LayerNorm(x + dropout(dense(...)))`.

use burn::nn::{Dropout, DropoutConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu_approximate, relu};

use crate::config::HiddenAct;

/// Shape of one layer.
#[derive(Config, Debug)]
pub struct EncoderLayerConfig {
    /// Hidden width.
    pub hidden_size: usize,
    /// Number of attention heads.
    pub num_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Feed-forward activation.
    pub activation: HiddenAct,
    /// Dropout on both residual branches (training only). Default 0.1, as BERT.
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl EncoderLayerConfig {
    /// Builds the layer with HF's initialisation (normal, std 0.02; zero biases).
    pub fn init(&self, device: &Device) -> EncoderLayer {
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Normal { mean: 0.0, std: 0.02 })
                .init(device)
        };
        let norm = || LayerNormConfig::new(self.hidden_size).with_epsilon(self.layer_norm_eps).init(device);
        let h = self.hidden_size;
        EncoderLayer {
            attention: SelfAttention {
                query: linear(h, h),
                key: linear(h, h),
                value: linear(h, h),
                output: linear(h, h),
                num_heads: self.num_heads,
            },
            attention_norm: norm(),
            intermediate: linear(h, self.intermediate_size),
            output: linear(self.intermediate_size, h),
            output_norm: norm(),
            dropout: DropoutConfig::new(self.dropout).init(),
            activation: self.activation,
        }
    }
}

/// `linear` applied to every token as one `[batch·seq, in] × [in, out]` product, then the exact
/// GELU when `gelu` is set: one large GEMM instead of Burn's per-sequence batched GEMM for a 3-D
/// input, about 10% faster on Flex with two streams (docs/BENCHMARKS.md).
///
/// # Shapes
/// - `x`: `[batch, seq, in]`; output: `[batch, seq, out]`
fn dense(linear: &Linear, x: Tensor<3>, gelu: bool) -> Tensor<3> {
    let [batch, seq, width] = x.dims();
    let y = super::kernels::linear(linear, x.reshape([batch * seq, width]), gelu);
    let out = y.dims()[1];
    y.reshape([batch, seq, out])
}

/// Multi-head scaled dot-product self-attention with its output projection.
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// Query projection.
    pub query: Linear,
    /// Key projection.
    pub key: Linear,
    /// Value projection.
    pub value: Linear,
    /// Output projection (`attention.output.dense` in HF).
    pub output: Linear,
    /// Number of heads.
    pub num_heads: usize,
}

impl SelfAttention {
    /// # Shapes
    /// - `x`: `[batch, seq, hidden]`
    /// - `pad_mask`: `[batch, heads, seq, seq]`, `true` where the key is padding
    /// - output: `[batch, seq, hidden]` (before the residual and LayerNorm)
    pub fn forward(&self, x: Tensor<3>, pad_mask: Tensor<4, Bool>) -> Tensor<3> {
        let [q, k, v] = super::kernels::linears([&self.query, &self.key, &self.value], x);
        // softmax(q·kᵀ / sqrt(head_dim) with padded keys at -inf) · v per head, as HF's sdpa path.
        let context = super::kernels::attention(q, k, v, self.num_heads, pad_mask);
        dense(&self.output, context, false)
    }
}

/// One transformer layer.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    /// Self-attention.
    pub attention: SelfAttention,
    /// LayerNorm after the attention residual (`attention.output.LayerNorm` in HF).
    pub attention_norm: LayerNorm,
    /// First feed-forward projection (`intermediate.dense`).
    pub intermediate: Linear,
    /// Second feed-forward projection (`output.dense`).
    pub output: Linear,
    /// LayerNorm after the feed-forward residual (`output.LayerNorm`).
    pub output_norm: LayerNorm,
    /// Dropout on both residual branches.
    pub dropout: Dropout,
    /// Feed-forward activation.
    #[module(skip)]
    pub activation: HiddenAct,
}

impl EncoderLayer {
    /// # Shapes
    /// - `x`: `[batch, seq, hidden]`
    /// - `pad_mask`: `[batch, heads, seq, seq]`, `true` where the key is padding
    /// - output: `[batch, seq, hidden]`
    pub fn forward(&self, x: Tensor<3>, pad_mask: Tensor<4, Bool>) -> Tensor<3> {
        let attended = self.dropout.forward(self.attention.forward(x.clone(), pad_mask));
        let x = self.attention_norm.forward(attended + x);
        let inner = match self.activation {
            HiddenAct::Gelu => dense(&self.intermediate, x.clone(), true),
            HiddenAct::GeluNew => gelu_approximate(dense(&self.intermediate, x.clone(), false)),
            HiddenAct::Relu => relu(dense(&self.intermediate, x.clone(), false)),
        };
        let out = self.dropout.forward(dense(&self.output, inner, false));
        self.output_norm.forward(out + x)
    }
}
