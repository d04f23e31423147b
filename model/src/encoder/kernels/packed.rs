//! `x·W + b` through rten-gemm with `W` packed once into the kernel's panel layout.
//!
//! For a sentence (a few dozen rows), a GEMM is bound by reading the weights, and an unpacked
//! GEMM re-packs all of them on every call. Packing once took one 18-token sentence from 25.9 to
//! 16.5 ms in headless Chromium (one wasm thread) and from 5.4 to 3.8 ms natively
//! (docs/BENCHMARKS.md). Packed weights are cached per weight buffer (see [`packed`]). Several
//! weights that read the same input (a layer's query, key and value) are packed side by side into
//! one matrix, for one GEMM.

use std::sync::Arc;

use burn::backend::flex::FlexTensor;
use rten_gemm::{BiasVector, GemmExecutor, GemmInputA, GemmInputB, GemmUninitOptions, PackedBMatrix};
use rten_tensor::NdTensorView;

use super::weight_cache::{side_by_side, view, WeightCache};

thread_local! {
    /// The executor picks its kernel (AVX-512, AVX2+FMA, wasm SIMD128...) at run time; every
    /// thread picks the same one, so packed matrices are shared between threads.
    static EXECUTOR: GemmExecutor<f32> = GemmExecutor::new();
}

/// Packed weights, keyed by their source buffers.
static CACHE: WeightCache<PackedBMatrix<f32>> = WeightCache::new();

/// `x·[w₁ w₂ …] (+ bias)` as a row-major `[m, n]` vector.
///
/// # Shapes
/// - `x`: `[m, k]` (any non-negative strides); each of `ws`: `[k, nᵢ]`; `bias`: `[n]`, n = Σ nᵢ
pub fn linear(x: &FlexTensor, ws: &[FlexTensor], bias: Option<&[f32]>) -> Vec<f32> {
    let a = view(x);
    let m = x.layout().shape()[0];
    let packed = packed(ws);
    let n = packed.cols();
    let mut out = Vec::with_capacity(m * n);
    EXECUTOR.with(|exec| {
        let opts = GemmUninitOptions { bias: bias.map(BiasVector::Row), ..Default::default() };
        exec.gemm_uninit(&mut out.spare_capacity_mut()[..m * n], GemmInputA::Unpacked(a), GemmInputB::Packed(&packed), opts)
            .expect("shapes checked by the caller");
    });
    // SAFETY: `gemm_uninit` initialised all m·n outputs.
    unsafe { out.set_len(m * n) };
    out
}

/// The packing of `ws` side by side, from the cache or made now.
fn packed(ws: &[FlexTensor]) -> Arc<PackedBMatrix<f32>> {
    CACHE.get(ws, |ws| match ws {
        [w] => EXECUTOR.with(|exec| exec.prepack_b(view(w))),
        _ => {
            let (joined, [k, n]) = side_by_side(ws);
            let view = NdTensorView::from_slice_with_strides([k, n], &joined[..], [n, 1]).expect("k×n values");
            EXECUTOR.with(|exec| exec.prepack_b(view))
        }
    })
}
