//! Vectorised element-wise kernels for the Flex CPU backend, native and wasm.
//!
//! Burn 0.22's Flex computes the exact GELU one element at a time with libm's scalar `erff`, on
//! one thread; on MiniLM that was about a fifth of the encoder's wall time on 2 cores. On a plain
//! (not autodiff) Flex device, [`gelu`] instead runs rten-vecmath's SIMD GELU (AVX-512, AVX2 or
//! wasm SIMD128, picked at run time; its erf is within 6.7e-7 of libm's) in place on the
//! tensor's buffer, split across the rayon pool when the `parallel` feature is on. Every other
//! device, and autodiff graphs, keep Burn's op, so gradients are unchanged.
//!
//! [`attention`] does the same for the softmax inside self-attention, where Flex's fused op
//! calls scalar `expf` per score: on a plain Flex device the scores come from one batched
//! GEMM, then scaling, the key-padding mask and rten-vecmath's SIMD softmax run in one pass
//! per row, in place, across the rayon pool; a second batched GEMM applies the values.

use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::module;
use burn::tensor::ops::AttentionModuleOptions;

/// Exact (erf) GELU, `0.5·x·(1 + erf(x/√2))`, as PyTorch's `nn.GELU()` / HF's `"gelu"`.
///
/// # Shapes
/// - `x`: any; output: the same.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if on_plain_flex(&x) {
        return flex::map_in_place(x, |chunk| {
            use rten_simd::SimdUnaryOp;
            rten_vecmath::Gelu {}.map_mut(chunk);
        })
        .unwrap_or_else(activation::gelu);
    }
    activation::gelu(x)
}

/// `softmax(q·kᵀ/√d, padded keys at −∞)·v`, as HF's sdpa path and Burn's `attention`.
///
/// # Shapes
/// - `q`, `k`, `v`: `[batch, heads, seq, head_dim]`
/// - `pad_mask`: `[batch, heads, seq, seq]`, true where the key is padding; a key padding mask
///   (the same for every head and query), as [`super::Encoder::pad_mask`] makes
/// - output: `[batch, heads, seq, head_dim]`
pub fn attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, pad_mask: Tensor<4, Bool>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if on_plain_flex(&q) {
        return flex::attention(q, k, v, pad_mask);
    }
    module::attention(
        q,
        k,
        v,
        Some(pad_mask),
        None,
        AttentionModuleOptions::default(),
    )
}

/// Whether `x` is an f32 tensor on the Flex device outside any autodiff graph.
#[cfg(feature = "flex")]
fn on_plain_flex<const D: usize>(x: &Tensor<D>) -> bool {
    let device = x.device();
    !device.is_autodiff() && device == Device::flex() && x.dtype() == burn::tensor::DType::F32
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::Flex;
    use burn::prelude::*;

    /// Elements per task: large enough to amortise scheduling, small enough to split a
    /// `[32, 128, 1536]` activation over the cores.
    #[cfg(feature = "parallel")]
    const CHUNK: usize = 1 << 16;

    /// See [`super::attention`].
    pub fn attention(
        q: Tensor<4>,
        k: Tensor<4>,
        v: Tensor<4>,
        pad_mask: Tensor<4, Bool>,
    ) -> Tensor<4> {
        let [batch, heads, seq, head_dim] = q.dims();
        let scale = 1.0 / (head_dim as f32).sqrt();
        // 1.0 where key `j` of sequence `b` is padding, `[batch, seq]`.
        let padding = pad_mask
            .slice([0..batch, 0..1, 0..1, 0..seq])
            .reshape([batch, seq])
            .float();
        let padding = padding
            .try_into_primitive::<Flex>()
            .expect("same device as q");
        assert!(
            padding.is_contiguous() && padding.layout().start_offset() == 0,
            "a cast output is fresh"
        );
        let padding = &padding.storage::<f32>()[..batch * seq];
        let scores = q.matmul(k.swap_dims(2, 3));
        let rows_per_sequence = heads * seq;
        let probs = map_rows_in_place(scores, seq, |r, row| {
            let b = r / rows_per_sequence;
            let keys = &padding[b * seq..(b + 1) * seq];
            for (x, &pad) in row.iter_mut().zip(keys) {
                *x = if pad > 0.5 {
                    f32::NEG_INFINITY
                } else {
                    *x * scale
                };
            }
            use rten_simd::SimdOp;
            rten_vecmath::Softmax::new_mut(row)
                .flush_nans_to_zero(true)
                .dispatch();
        });
        probs.matmul(v)
    }

    /// Runs `f(row_index, row)` over the rows (last dimension, length `len`) of a fresh
    /// tensor in place, in parallel with the `parallel` feature.
    fn map_rows_in_place<const D: usize>(
        x: Tensor<D>,
        len: usize,
        f: impl Fn(usize, &mut [f32]) + Sync,
    ) -> Tensor<D> {
        let mut t = x.try_into_primitive::<Flex>().expect("same device as q");
        assert!(
            t.is_unique() && t.is_contiguous() && t.layout().start_offset() == 0,
            "a matmul output is fresh"
        );
        let n = t.layout().num_elements();
        let data = &mut t.storage_mut::<f32>()[..n];
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let rows_per_task = (CHUNK / len.max(1)).max(1);
            data.par_chunks_mut(rows_per_task * len)
                .enumerate()
                .for_each(|(i, chunk)| {
                    for (j, row) in chunk.chunks_mut(len).enumerate() {
                        f(i * rows_per_task + j, row);
                    }
                });
        }
        #[cfg(not(feature = "parallel"))]
        for (r, row) in data.chunks_mut(len).enumerate() {
            f(r, row);
        }
        Tensor::from_primitive::<Flex>(t)
    }

    /// Runs `f` over the f32 buffer of a plain Flex tensor in place. Gives the tensor back
    /// unchanged (`Err`) when its buffer is shared or it is a strided view, so the caller can
    /// fall back to Burn's op.
    pub fn map_in_place<const D: usize>(
        x: Tensor<D>,
        f: impl Fn(&mut [f32]) + Sync,
    ) -> Result<Tensor<D>, Tensor<D>> {
        let mut t = x
            .try_into_primitive::<Flex>()
            .expect("checked by on_plain_flex");
        if !(t.is_unique() && t.is_contiguous() && t.layout().start_offset() == 0) {
            return Err(Tensor::from_primitive::<Flex>(t));
        }
        let n = t.layout().num_elements();
        let data = &mut t.storage_mut::<f32>()[..n];
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            data.par_chunks_mut(CHUNK).for_each(|c| f(c));
        }
        #[cfg(not(feature = "parallel"))]
        f(data);
        Ok(Tensor::from_primitive::<Flex>(t))
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    #[test]
    fn matches_burn_gelu_on_flex_including_shared_buffers_and_views() {
        let device = Device::flex();
        // Large enough for several parallel chunks, with a tail.
        let n = 3 * (1 << 16) + 17;
        let values: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 20_001) as f32 / 1000.0 - 10.0)
            .collect();
        let fresh = || Tensor::<1>::from_floats(values.as_slice(), &device);
        let burns = activation::gelu(fresh())
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let max_diff = |ours: Vec<f32>, reference: &[f32]| {
            ours.iter()
                .zip(reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max)
        };
        // A fresh tensor takes the in-place SIMD path.
        let ours = flex::map_in_place(fresh(), |c| {
            use rten_simd::SimdUnaryOp;
            rten_vecmath::Gelu {}.map_mut(c);
        });
        let ours = ours.unwrap_or_else(|_| panic!("a fresh contiguous tensor takes the fast path"));
        let d = max_diff(ours.into_data().try_into_vec::<f32>().unwrap(), &burns);
        assert!(d < 1e-5, "max abs diff {d}");
        assert!(
            max_diff(
                gelu(fresh()).into_data().try_into_vec::<f32>().unwrap(),
                &burns
            ) < 1e-5
        );
        // A shared buffer is never written in place: the other handle keeps its values.
        let x = fresh();
        assert!(flex::map_in_place(x.clone(), |c| c.fill(0.0)).is_err());
        assert!(
            max_diff(
                gelu(x.clone()).into_data().try_into_vec::<f32>().unwrap(),
                &burns
            ) < 1e-5
        );
        assert_eq!(x.clone().into_data().try_into_vec::<f32>().unwrap(), values);
        // A strided view falls back to Burn's op and gives the same numbers.
        let m = x.slice([0..1000]).reshape([10, 100]).transpose();
        let ours = gelu(m.clone()).into_data().try_into_vec::<f32>().unwrap();
        let reference = activation::gelu(m)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let d = max_diff(ours, &reference);
        assert!(d < 1e-5, "max abs diff {d}");
    }

    #[test]
    fn attention_matches_burns_fused_op_with_padding() {
        let device = Device::flex();
        let [batch, heads, seq, dim] = [3, 2, 7, 4];
        let random = |seed: usize| {
            let v: Vec<f32> = (0..batch * heads * seq * dim)
                .map(|i| (((i + seed) * 2_654_435_761) % 1000) as f32 / 250.0 - 2.0)
                .collect();
            Tensor::<1>::from_floats(v.as_slice(), &device).reshape([batch, heads, seq, dim])
        };
        let (q, k, v) = (random(1), random(2), random(3));
        // Sequence lengths 7, 4 and 1 (right padding), and one left-padded row.
        let mut mask = vec![0i32; batch * seq];
        for j in 4..seq {
            mask[seq + j] = 1;
        }
        for j in 0..seq - 1 {
            mask[2 * seq + j + 1] = 1;
        }
        let mask = Tensor::<1, Int>::from_ints(mask.as_slice(), &device)
            .equal_elem(1)
            .reshape([batch, 1, 1, seq])
            .expand([batch, heads, seq, seq]);
        let ours = attention(q.clone(), k.clone(), v.clone(), mask.clone());
        let burns = module::attention(q, k, v, Some(mask), None, AttentionModuleOptions::default());
        let ours = ours.into_data().try_into_vec::<f32>().unwrap();
        let burns = burns.into_data().try_into_vec::<f32>().unwrap();
        let d = ours
            .iter()
            .zip(&burns)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(d < 1e-5, "max abs diff {d}");
    }

    #[test]
    fn autodiff_keeps_burns_gradient() {
        let device = Device::flex().autodiff();
        let x = Tensor::<1>::from_floats([-2.0, -0.5, 0.0, 0.5, 2.0], &device).require_grad();
        let grads = gelu(x.clone()).sum().backward();
        let g = x
            .grad(&grads)
            .expect("gradient")
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        // d/dx GELU = Φ(x) + x·φ(x); at 0 it is 0.5.
        assert!((g[2] - 0.5).abs() < 1e-6, "{g:?}");
        assert!(g[4] > 1.0 && g[0] < 0.0, "{g:?}");
    }
}
