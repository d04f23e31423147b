//! Vectorised element-wise kernels for the Flex CPU backend, native and wasm.
//!
//! They run on a plain (not autodiff) Flex device; every other device, and autodiff graphs, keep
//! Burn's ops, so gradients are unchanged.
//!
//! [`linear`] is one rten-gemm GEMM, bias included, on weights packed once into the kernel's panel
//! layout and cached ([`packed`]), where Flex re-packs the weights, zero-fills, copies again for
//! alignment, then adds the bias on one thread ([`linears`]: one GEMM for several weights side by
//! side, on a pool of threads). Its exact GELU is rten-vecmath's SIMD
//! kernel (AVX-512, AVX2 or wasm SIMD128, picked at run time; erf within 6.7e-7 of libm's), in
//! place across the rayon pool, where Flex calls scalar libm `erff` on one thread.
//! [`attention`] runs one task per sequence: per head, a GEMM into a `[seq, seq]` scratch, the
//! scale, key mask and rten-vecmath's SIMD softmax per row (Flex's fused op calls scalar `expf`
//! per score), and a GEMM writing the context straight into the head's columns.
//! [`with_pool_awake`] keeps the rayon pool's threads spinning through a forward pass, so that
//! a sentence's small GEMMs are split without waking a sleeping thread each time.
//! docs/BENCHMARKS.md measures each step.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::module;
use burn::tensor::ops::AttentionModuleOptions;

/// `x·W + b` of a `Linear`, then the exact GELU when `gelu` is set.
///
/// On a plain Flex device this is one GEMM with the bias on the packed weights (then the SIMD
/// GELU in place). Flex's own matmul allocates a zeroed byte vector, copies it once
/// more to reach its alignment, and adds the bias in a separate single-threaded pass.
///
/// # Shapes
/// - `x`: `[rows, in]`; `linear.weight`: `[in, out]`; output: `[rows, out]`
pub fn linear(linear: &Linear, x: Tensor<2>, gelu: bool) -> Tensor<2> {
    #[cfg(feature = "flex")]
    if on_plain_flex(&x) && on_plain_flex(&linear.weight.val()) {
        return flex::linear(x, &[linear.weight.val()], &[linear.bias.as_ref().map(|b| b.val())], gelu);
    }
    #[cfg(any(feature = "wgpu", feature = "webgpu"))]
    let y = match cube::matmul(&x, &linear.weight.val()) {
        Some(y) => match &linear.bias {
            Some(b) => y + b.val().unsqueeze::<2>(),
            None => y,
        },
        None => linear.forward(x),
    };
    #[cfg(not(any(feature = "wgpu", feature = "webgpu")))]
    let y = linear.forward(x);
    if gelu { activation::gelu(y) } else { y }
}

/// `x·w`: our register-tiled kernel on a software WebGPU/Vulkan adapter (Burn's matmul runs
/// skinny products such as a head's `[rows, 768]·[768, 9]` at ~0.05 GFLOP/s there), Burn's matmul
/// on every other device.
///
/// # Shapes
/// - `x`: `[rows, depth]`; `w`: `[depth, cols]`; output: `[rows, cols]`
pub fn matmul(x: Tensor<2>, w: Tensor<2>) -> Tensor<2> {
    #[cfg(any(feature = "wgpu", feature = "webgpu"))]
    if let Some(y) = cube::matmul(&x, &w) {
        return y;
    }
    x.matmul(w)
}

/// `x·Wᵢ + bᵢ` of several `Linear`s that read the same input, each token as a row.
///
/// On a plain Flex device with a pool of more than one thread this is one GEMM on the weights
/// packed side by side (a layer's query, key and value: one `[rows, 3·hidden]` product instead of
/// three), and the outputs are column views into its result. In the browser that gave +4–9%
/// tokens/s on two threads, but −8–11% on one, where rten-gemm then works on column blocks of
/// 1,024 instead of 384 (docs/BENCHMARKS.md); so one thread, and every other device, runs each
/// `Linear` on its own.
///
/// # Shapes
/// - `x`: `[batch, seq, in]`; `linears[i].weight`: `[in, outᵢ]`; output `i`: `[batch, seq, outᵢ]`
pub fn linears<const N: usize>(linears: [&Linear; N], x: Tensor<3>) -> [Tensor<3>; N] {
    let [batch, seq, width] = x.dims();
    let x = x.reshape([batch * seq, width]);
    #[cfg(all(feature = "flex", feature = "parallel"))]
    if rayon::current_num_threads() > 1 && on_plain_flex(&x) && linears.iter().all(|l| on_plain_flex(&l.weight.val())) {
        let weights = linears.map(|l| l.weight.val());
        let biases = linears.map(|l| l.bias.as_ref().map(|b| b.val()));
        let y = flex::linear(x, &weights, &biases, false);
        let total = y.dims()[1];
        let y = y.reshape([batch, seq, total]);
        let mut start = 0;
        return weights.map(|w| {
            let end = start + w.dims()[1];
            let part = y.clone().slice([0..batch, 0..seq, start..end]);
            start = end;
            part
        });
    }
    linears.map(|l| {
        let y = linear(l, x.clone(), false);
        let out = y.dims()[1];
        y.reshape([batch, seq, out])
    })
}

/// Multi-head `softmax(q·kᵀ/√d, padded keys at −∞)·v`, as HF's sdpa path and Burn's
/// `attention`, with the heads split from and merged back into the hidden dimension.
///
/// # Shapes
/// - `q`, `k`, `v`: `[batch, seq, hidden]`, head `h` in columns `h·d..(h+1)·d`
/// - `pad_mask`: `[batch, heads, seq, seq]`, true where the key is padding; a key padding mask
///   (the same for every head and query), as [`super::Encoder::pad_mask`] makes
/// - output: `[batch, seq, hidden]`
pub fn attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize, pad_mask: Tensor<4, Bool>) -> Tensor<3> {
    #[cfg(feature = "flex")]
    if on_plain_flex(&q) && on_plain_flex(&k) && on_plain_flex(&v) {
        return flex::attention(q, k, v, heads, pad_mask);
    }
    let [batch, seq, hidden] = q.dims();
    let split = |t: Tensor<3>| t.reshape([batch, seq, heads, hidden / heads]).swap_dims(1, 2);
    let context = module::attention(split(q), split(k), split(v), Some(pad_mask), None, AttentionModuleOptions::default());
    context.swap_dims(1, 2).reshape([batch, seq, hidden])
}

/// Runs `f`, one forward pass, on the rayon pool with the pool's other threads kept awake until
/// it returns ([`awake`]), on a plain Flex device with a pool of more than one thread;
/// otherwise just runs `f`.
pub fn with_pool_awake<R: Send>(device: &Device, f: impl FnOnce() -> R + Send) -> R {
    #[cfg(all(feature = "flex", feature = "parallel"))]
    {
        if rayon::current_num_threads() > 1 && is_plain_flex(device) {
            return awake::run(f);
        }
    }
    let _ = device;
    f()
}

#[cfg(all(feature = "flex", feature = "parallel"))]
pub use awake::set_cores;

static INT8: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on, runs the encoder's linear layers on a plain Flex device with 8-bit weights and
/// activations (dynamic quantisation, kernels/int8.rs) when `on`, in f32 (the default) when not.
/// Other devices always run f32. For the whole process, as `set_cores` is.
pub fn set_int8(on: bool) {
    INT8.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether [`set_int8`] turned the 8-bit path on.
pub fn int8() -> bool {
    INT8.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether the encoder's linear layers run in 8 bits on `device` (its weights' device): [`set_int8`]
/// is on and `device` is the plain Flex device.
pub fn int8_on(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    return int8() && is_plain_flex(device);
    #[cfg(not(feature = "flex"))]
    {
        let _ = device;
        false
    }
}

/// Whether `x` is an f32 tensor on the Flex device outside any autodiff graph.
#[cfg(feature = "flex")]
fn on_plain_flex<const D: usize>(x: &Tensor<D>) -> bool {
    is_plain_flex(&x.device()) && x.dtype() == burn::tensor::DType::F32
}

/// Whether `device` is the Flex device outside any autodiff graph.
#[cfg(feature = "flex")]
fn is_plain_flex(device: &Device) -> bool {
    !device.is_autodiff() && *device == Device::flex()
}

#[cfg(all(feature = "flex", feature = "parallel"))]
mod awake;
#[cfg(any(feature = "wgpu", feature = "webgpu"))]
mod cube;
#[cfg(any(feature = "wgpu", feature = "webgpu"))]
mod tiled;
#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "flex")]
mod packed;
#[cfg(feature = "flex")]
mod int8;
#[cfg(all(feature = "flex", any(test, target_arch = "wasm32")))]
mod dot8;
#[cfg(feature = "flex")]
mod weight_cache;
#[cfg(all(test, feature = "flex"))]
mod tests;
