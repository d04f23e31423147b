//! `x·W + b` with 8-bit weights and activations: dynamic quantisation, as onnxruntime's
//! `MatMulInteger` path runs the int8 exports of transformers.js, through rten-gemm's
//! u8 × i8 → i32 GEMM (AVX-512 VNNI, AVX2, wasm SIMD128 kernels, picked at run time).
//!
//! - Weights: per output column, symmetric, `q = round(w / s)`, `s = max|w| / 127` (63 where the
//!   kernel may saturate: AVX2's `vpmaddubsw` adds two u8·i8 products into an i16, so weights keep
//!   7 bits, as onnxruntime's `reduce_range`). Quantised once, packed, cached by weight buffer.
//! - Activations: per row, asymmetric u8 with a zero point, from the row's range (zero included),
//!   at every call.
//! - `y[r, c] = s_x[r] · s_w[c] · Σₖ (qx[r, k] − z[r]) · qw[k, c] + b[c]`.
//!
//! Off by default ([`super::set_int8`]): it costs accuracy (tests in `super::tests`). Natively
//! (rten-gemm's kernels) it was not faster than f32 on AVX2; in wasm [`super::dot8`]'s kernels
//! run instead (docs/BENCHMARKS.md, "8-bit linear layers").

use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use rten_gemm::{GemmExecutor, GemmInputA, GemmInputB, GemmUninitOptions, PackedBMatrix};
use rten_tensor::NdTensorView;

use super::weight_cache::{side_by_side, view, WeightCache};

thread_local! {
    /// As `super::packed`'s: one kernel for every thread.
    static EXECUTOR: GemmExecutor<u8, i8, i32> = GemmExecutor::default();
}

/// Weights quantised per column and packed.
pub struct QuantizedWeights {
    packed: PackedBMatrix<i8>,
    /// Per column: the f32 value of one step.
    scales: Vec<f32>,
    /// Per column: `Σₖ qw[k, c]`, for the activations' zero points (see [`gemm_i32`]).
    col_sums: Vec<i32>,
}

static CACHE: WeightCache<QuantizedWeights> = WeightCache::new();

/// `x·[w₁ w₂ …] (+ bias)` as a row-major `[m, n]` vector, in 8-bit arithmetic.
///
/// # Shapes
/// - `x`: `[m, k]` (any non-negative strides); each of `ws`: `[k, nᵢ]`; `bias`: `[n]`, n = Σ nᵢ
///
/// In wasm this is [`super::dot8`]'s kernel instead (on relaxed SIMD's 4-way dot product in the
/// multi-threaded build): rten-gemm's is slower than f32 there.
#[cfg_attr(target_arch = "wasm32", allow(unreachable_code))]
pub fn linear(x: &FlexTensor, ws: &[FlexTensor], bias: Option<&[f32]>) -> Vec<f32> {
    #[cfg(target_arch = "wasm32")]
    return super::dot8::linear(x, ws, bias);
    let w = CACHE.get(ws, quantize_weights);
    let (m, k) = (x.layout().shape()[0], x.layout().shape()[1]);
    let n = w.scales.len();
    let (qx, x_scales, x_zeros) = quantize_rows(&row_major(x, [m, k]), [m, k]);
    let acc = gemm_i32(&qx, &x_zeros, [m, k], &w);
    let mut out = vec![0.0f32; m * n];
    for r in 0..m {
        let (row, sx) = (&acc[r * n..(r + 1) * n], x_scales[r]);
        let dst = &mut out[r * n..(r + 1) * n];
        match bias {
            Some(b) => {
                for c in 0..n {
                    dst[c] = row[c] as f32 * sx * w.scales[c] + b[c];
                }
            }
            None => {
                for c in 0..n {
                    dst[c] = row[c] as f32 * sx * w.scales[c];
                }
            }
        }
    }
    out
}

/// `Σₖ (qx[r, k] − z[r]) · qw[k, c]`, row-major `[m, n]`.
///
/// rten-gemm 0.27 takes per-row zero points for the left matrix, but its int8 packing gives every
/// full panel of rows the zero points of the first (`packing/int8.rs`, `pack_a_impl`: `zp[r]`
/// where `zp[row_tile * MR + r]` is meant; the tail panel is right), so rows MR..(last full panel)
/// come out wrong. The GEMM therefore runs without them, on the raw u8 values, and the
/// correction `z[r] · Σₖ qw[k, c]` is subtracted here.
fn gemm_i32(qx: &[u8], x_zeros: &[u8], [m, k]: [usize; 2], w: &QuantizedWeights) -> Vec<i32> {
    let n = w.scales.len();
    let a = NdTensorView::from_slice_with_strides([m, k], qx, [k, 1]).expect("m×k values");
    let mut acc: Vec<i32> = Vec::with_capacity(m * n);
    EXECUTOR.with(|exec| {
        // No zero points on either side: the weights are symmetric, the activations' are applied below.
        exec.gemm_uninit(&mut acc.spare_capacity_mut()[..m * n], GemmInputA::Unpacked(a), GemmInputB::Packed(&w.packed), GemmUninitOptions::default())
            .expect("shapes checked by the caller");
    });
    // SAFETY: `gemm_uninit` initialised all m·n outputs.
    unsafe { acc.set_len(m * n) };
    for (row, &z) in acc.chunks_exact_mut(n).zip(x_zeros) {
        let z = z as i32;
        for (v, &sum) in row.iter_mut().zip(&w.col_sums) {
            *v -= z * sum;
        }
    }
    acc
}

/// Quantises and packs `ws` side by side.
fn quantize_weights(ws: &[FlexTensor]) -> QuantizedWeights {
    let (values, [k, n]) = side_by_side(ws);
    let saturating = EXECUTOR.with(|exec| exec.may_saturate());
    let (q, scales) = quantize_columns(&values, [k, n], if saturating { 63.0 } else { 127.0 });
    pack(q, scales, [k, n])
}

/// Packs quantised `[k, n]` weights for the executor.
fn pack(q: Vec<i8>, scales: Vec<f32>, [k, n]: [usize; 2]) -> QuantizedWeights {
    let mut col_sums = vec![0i32; n];
    for row in q.chunks_exact(n) {
        for (s, &v) in col_sums.iter_mut().zip(row) {
            *s += v as i32;
        }
    }
    let view = NdTensorView::from_slice_with_strides([k, n], &q[..], [n, 1]).expect("k×n values");
    let packed = EXECUTOR.with(|exec| exec.prepack_b(view));
    QuantizedWeights { packed, scales, col_sums }
}

/// Symmetric per-column quantisation of a row-major `[k, n]` matrix to `[-qmax, qmax]`: the
/// values and each column's step.
pub fn quantize_columns(values: &[f32], [k, n]: [usize; 2], qmax: f32) -> (Vec<i8>, Vec<f32>) {
    let mut max = vec![0.0f32; n];
    for row in values.chunks_exact(n) {
        for (m, &v) in max.iter_mut().zip(row) {
            *m = m.max(v.abs());
        }
    }
    let scales: Vec<f32> = max.iter().map(|&m| if m > 0.0 { m / qmax } else { 1.0 }).collect();
    let inv: Vec<f32> = scales.iter().map(|s| 1.0 / s).collect();
    let mut q = vec![0i8; k * n];
    for (dst, row) in q.chunks_exact_mut(n).zip(values.chunks_exact(n)) {
        for c in 0..n {
            dst[c] = (row[c] * inv[c]).round().clamp(-qmax, qmax) as i8;
        }
    }
    (q, scales)
}

/// The values of `x` (`[m, k]`) row-major: its own buffer when it already is, else a copy.
pub fn row_major(x: &FlexTensor, [m, k]: [usize; 2]) -> Cow<'_, [f32]> {
    let layout = x.layout();
    let s = layout.strides();
    if (s[0] == k as isize || m == 1) && (s[1] == 1 || k == 1) {
        let start = layout.start_offset();
        return Cow::Borrowed(&x.storage::<f32>()[start..start + m * k]);
    }
    let v = view(x);
    Cow::Owned((0..m * k).map(|i| v[[i / k, i % k]]).collect())
}

/// Asymmetric per-row u8 quantisation of the row-major `[m, k]` values `x`: the values, each
/// row's step and zero point. A row's range always includes zero, so zero is exact (padding
/// stays zero).
pub fn quantize_rows(x: &[f32], [m, k]: [usize; 2]) -> (Vec<u8>, Vec<f32>, Vec<u8>) {
    let mut q = vec![0u8; m * k];
    let (mut scales, mut zeros) = (Vec::with_capacity(m), Vec::with_capacity(m));
    for (row, dst) in x.chunks_exact(k).zip(q.chunks_exact_mut(k)) {
        let (scale, zero) = row_step(row);
        let inv = 1.0 / scale;
        for (d, &v) in dst.iter_mut().zip(row) {
            *d = quantize_value(v, inv, zero);
        }
        scales.push(scale);
        zeros.push(zero as u8);
    }
    (q, scales, zeros)
}

/// A row's step and zero point (a whole number in 0..=255) for [`quantize_rows`]: its range with
/// zero included, in 255 steps.
pub fn row_step(row: &[f32]) -> (f32, f32) {
    // Eight running minima and maxima, so that the loop vectorises.
    let (mut lo, mut hi) = ([0.0f32; 8], [0.0f32; 8]);
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            lo[i] = lo[i].min(c[i]);
            hi[i] = hi[i].max(c[i]);
        }
    }
    let lo = lo.iter().chain(tail).fold(0.0f32, |a, &v| a.min(v));
    let hi = hi.iter().chain(tail).fold(0.0f32, |a, &v| a.max(v));
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    (scale, (-lo / scale).round_ties_even().clamp(0.0, 255.0))
}

/// `v` in steps of `1 / inv` above the zero point `zero`, as u8. Ties round to even: one
/// instruction in wasm (`f32.nearest`), where `round` is a call to libm.
#[inline]
pub fn quantize_value(v: f32, inv: f32, zero: f32) -> u8 {
    (v * inv + zero).round_ties_even().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rten-gemm's kernel against the sum written out, with full-range activations and the
    /// weight range this machine's kernel allows.
    #[test]
    fn the_8_bit_gemm_is_the_integer_sum() {
        let qmax = if EXECUTOR.with(|exec| exec.may_saturate()) { 63 } else { 127 };
        // Row panels, depth blocks and column blocks of all sizes; one row (the GEMV path).
        for (m, k, n) in [(7, 300, 70), (18, 384, 1536), (300, 384, 384), (1, 1536, 384)] {
            let qx: Vec<u8> = (0..m * k).map(|i| ((i * 2_654_435_761) % 256) as u8).collect();
            let zeros: Vec<u8> = (0..m).map(|r| (r * 37 % 256) as u8).collect();
            let qw: Vec<i8> = (0..k * n).map(|i| (((i * 40_503) % (2 * qmax + 1)) as i32 - qmax as i32) as i8).collect();
            let w = pack(qw.clone(), vec![1.0; n], [k, n]);
            let ours = gemm_i32(&qx, &zeros, [m, k], &w);
            for r in 0..m {
                for c in 0..n {
                    let want: i32 = (0..k).map(|j| (qx[r * k + j] as i32 - zeros[r] as i32) * qw[j * n + c] as i32).sum();
                    assert_eq!(ours[r * n + c], want, "{m}×{k}×{n}: row {r} column {c} ({})", EXECUTOR.with(|e| e.kernel_name().to_string()));
                }
            }
        }
    }
}
