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

use burn::nn::Linear;
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

/// `x·W + b` of a `Linear`, then the exact GELU when `gelu` is set.
///
/// On a plain Flex device this is one GEMM into a fresh buffer pre-filled with the bias (then
/// the SIMD GELU in place). Flex's own matmul allocates a zeroed byte vector, copies it once
/// more to reach its alignment, and adds the bias in a separate single-threaded pass.
///
/// # Shapes
/// - `x`: `[rows, in]`; `linear.weight`: `[in, out]`; output: `[rows, out]`
pub fn linear(linear: &Linear, x: Tensor<2>, gelu: bool) -> Tensor<2> {
    #[cfg(feature = "flex")]
    if on_plain_flex(&x) && on_plain_flex(&linear.weight.val()) {
        return flex::linear(x, linear.weight.val(), linear.bias.as_ref().map(|b| b.val()), gelu);
    }
    let y = linear.forward(x);
    if gelu { self::gelu(y) } else { y }
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

    /// See [`super::linear`].
    pub fn linear(x: Tensor<2>, weight: Tensor<2>, bias: Option<Tensor<1>>, gelu: bool) -> Tensor<2> {
        use burn::backend::flex::{FlexTensor, Layout};
        use burn::tensor::{Bytes, DType, Shape};
        let [m, k] = x.dims();
        let [_, n] = weight.dims();
        let x = x.try_into_primitive::<Flex>().expect("checked by on_plain_flex");
        let w = weight.try_into_primitive::<Flex>().expect("checked by on_plain_flex");
        let mut out: Vec<f32> = match &bias {
            Some(b) => {
                let b = b.clone().try_into_primitive::<Flex>().expect("same device as the weight");
                rows_of(&strided_1d(&b), m)
            }
            None => vec![0.0; m * n],
        };
        let (x_ptr, x_rs, x_cs) = matrix(&x);
        let (w_ptr, w_rs, w_cs) = matrix(&w);
        #[cfg(feature = "parallel")]
        let parallelism = if m * n * k >= 192 * 192 * 192 { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
        #[cfg(not(feature = "parallel"))]
        let parallelism = gemm::Parallelism::None;
        // SAFETY: `out` holds m×n f32 in row-major order; `x_ptr` and `w_ptr` point into live
        // Flex buffers whose layouts (checked in `matrix`) cover m×k and k×n elements at
        // the given strides; the buffers do not overlap `out`.
        unsafe {
            gemm::gemm(
                m, n, k,
                out.as_mut_ptr(), 1, n as isize, bias.is_some(),
                x_ptr, x_cs, x_rs,
                w_ptr, w_cs, w_rs,
                1.0, 1.0, false, false, false, parallelism,
            );
        }
        if gelu {
            use rten_simd::SimdUnaryOp;
            for_chunks(&mut out, |c| {
                rten_vecmath::Gelu {}.map_mut(c);
            });
        }
        let t = FlexTensor::new(Bytes::from_elems(out), Layout::contiguous(Shape::new([m, n])), DType::F32);
        Tensor::from_primitive::<Flex>(t)
    }

    /// Base pointer and (row, column) strides of a 2-D f32 Flex tensor, checked to lie within
    /// its buffer.
    fn matrix(t: &burn::backend::flex::FlexTensor) -> (*const f32, isize, isize) {
        let layout = t.layout();
        let (dims, strides) = (layout.shape(), layout.strides());
        assert_eq!(dims.num_dims(), 2);
        let data = t.storage::<f32>();
        let start = layout.start_offset();
        let last = start as isize + (dims[0] as isize - 1) * strides[0] + (dims[1] as isize - 1) * strides[1];
        assert!(strides[0] >= 0 && strides[1] >= 0 && (last as usize) < data.len(), "a view inside its buffer");
        (data[start..].as_ptr(), strides[0], strides[1])
    }

    /// `row` repeated `m` times, written in parallel with the `parallel` feature.
    fn rows_of(row: &[f32], m: usize) -> Vec<f32> {
        let n = row.len();
        let mut out = Vec::with_capacity(m * n);
        let fill = |chunk: &mut [core::mem::MaybeUninit<f32>]| {
            for r in chunk.chunks_mut(n) {
                for (o, &x) in r.iter_mut().zip(row) {
                    o.write(x);
                }
            }
        };
        let spare = &mut out.spare_capacity_mut()[..m * n];
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let rows_per_task = (CHUNK / n.max(1)).max(1);
            spare.par_chunks_mut(rows_per_task * n).for_each(fill);
        }
        #[cfg(not(feature = "parallel"))]
        fill(spare);
        // SAFETY: the loop above wrote all m·n elements.
        unsafe { out.set_len(m * n) };
        out
    }

    /// The values of a 1-D f32 Flex tensor, in order.
    fn strided_1d(t: &burn::backend::flex::FlexTensor) -> Vec<f32> {
        let layout = t.layout();
        let data = t.storage::<f32>();
        let (start, stride) = (layout.start_offset() as isize, layout.strides()[0]);
        (0..layout.shape()[0] as isize).map(|i| data[(start + i * stride) as usize]).collect()
    }

    /// Runs `f` over `data` in chunks, in parallel with the `parallel` feature.
    fn for_chunks(data: &mut [f32], f: impl Fn(&mut [f32]) + Sync) {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            data.par_chunks_mut(CHUNK).for_each(|c| f(c));
        }
        #[cfg(not(feature = "parallel"))]
        f(data);
    }

    /// See [`super::attention`]. One task per sequence (in parallel with the `parallel`
    /// feature); per head, one GEMM writes the scores into a `[seq, seq]` scratch, one pass
    /// scales, masks and softmaxes each row with SIMD, and one GEMM writes the context straight
    /// into the head's columns of the `[seq, hidden]` output: no `[batch, heads, seq, seq]`
    /// tensor and no transposing copies.
    pub fn attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize, pad_mask: Tensor<4, Bool>) -> Tensor<3> {
        use burn::backend::flex::{FlexTensor, Layout};
        use burn::tensor::{Bytes, DType, Shape};
        let [batch, seq, hidden] = q.dims();
        let d = hidden / heads;
        let scale = 1.0 / (d as f32).sqrt();
        // 1.0 where key `j` of sequence `b` is padding, `[batch, seq]`.
        let padding = pad_mask.slice([0..batch, 0..1, 0..1, 0..seq]).reshape([batch, seq]).float();
        let padding = padding.try_into_primitive::<Flex>().expect("same device as q");
        let padding: Vec<f32> = (0..batch).flat_map(|b| strided_row(&padding, b)).collect();
        let [q, k, v] = [q, k, v].map(|t| t.try_into_primitive::<Flex>().expect("checked by on_plain_flex"));
        let (q, k, v) = (Seqs::of(&q), Seqs::of(&k), Seqs::of(&v));
        let mut out = vec![0.0f32; batch * seq * hidden];
        let one_sequence = |b: usize, out: &mut [f32]| {
            let mut scores = vec![0.0f32; seq * seq];
            let keys = &padding[b * seq..(b + 1) * seq];
            for h in 0..heads {
                let (qh, kh, vh) = (q.head(b, h, d), k.head(b, h, d), v.head(b, h, d));
                // SAFETY (both calls): `scores` holds seq×seq and `out` seq×hidden f32 in
                // row-major order, and column h·d + d ≤ hidden; `Seqs::of` checked that every
                // (sequence, head) block of q, k and v lies inside its buffer at these strides.
                unsafe {
                    // scores = q_h · k_hᵀ: [seq, d] × [d, seq]
                    gemm::gemm(
                        seq, seq, d,
                        scores.as_mut_ptr(), 1, seq as isize, false,
                        qh, q.col, q.row,
                        kh, k.row, k.col,
                        0.0, 1.0, false, false, false, gemm::Parallelism::None,
                    );
                }
                for row in scores.chunks_mut(seq) {
                    for (x, &pad) in row.iter_mut().zip(keys) {
                        *x = if pad > 0.5 { f32::NEG_INFINITY } else { *x * scale };
                    }
                    use rten_simd::SimdOp;
                    rten_vecmath::Softmax::new_mut(row).flush_nans_to_zero(true).dispatch();
                }
                unsafe {
                    // out[:, h·d..(h+1)·d] = probs · v_h: [seq, seq] × [seq, d]
                    gemm::gemm(
                        seq, d, seq,
                        out[h * d..].as_mut_ptr(), 1, hidden as isize, false,
                        scores.as_ptr(), 1, seq as isize,
                        vh, v.col, v.row,
                        0.0, 1.0, false, false, false, gemm::Parallelism::None,
                    );
                }
            }
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            out.par_chunks_mut(seq * hidden).enumerate().for_each(|(b, o)| one_sequence(b, o));
        }
        #[cfg(not(feature = "parallel"))]
        for (b, o) in out.chunks_mut(seq * hidden).enumerate() {
            one_sequence(b, o);
        }
        let t = FlexTensor::new(Bytes::from_elems(out), Layout::contiguous(Shape::new([batch, seq, hidden])), DType::F32);
        Tensor::from_primitive::<Flex>(t)
    }

    /// A `[batch, seq, hidden]` f32 Flex tensor seen as per-(sequence, head) `[seq, d]` blocks.
    struct Seqs<'a> {
        data: &'a [f32],
        start: usize,
        batch: isize,
        row: isize,
        col: isize,
    }

    impl<'a> Seqs<'a> {
        fn of(t: &'a burn::backend::flex::FlexTensor) -> Self {
            let layout = t.layout();
            let (dims, s) = (layout.shape(), layout.strides());
            assert_eq!(dims.num_dims(), 3);
            let data = t.storage::<f32>();
            let start = layout.start_offset();
            assert!(s.iter().all(|&x| x >= 0), "positive strides");
            let last = start as isize + (0..3).map(|i| (dims[i] as isize - 1) * s[i]).sum::<isize>();
            assert!((last as usize) < data.len(), "a view inside its buffer");
            Seqs { data, start, batch: s[0], row: s[1], col: s[2] }
        }

        /// Pointer to element (b, 0, h·d).
        fn head(&self, b: usize, h: usize, d: usize) -> *const f32 {
            let at = self.start as isize + b as isize * self.batch + (h * d) as isize * self.col;
            self.data[at as usize..].as_ptr()
        }
    }

    /// Row `r` of a 2-D f32 Flex tensor.
    fn strided_row(t: &burn::backend::flex::FlexTensor, r: usize) -> Vec<f32> {
        let layout = t.layout();
        let data = t.storage::<f32>();
        let (start, s) = (layout.start_offset() as isize, layout.strides());
        let at = start + r as isize * s[0];
        (0..layout.shape()[1] as isize).map(|j| data[(at + j * s[1]) as usize]).collect()
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
        for_chunks(&mut t.storage_mut::<f32>()[..n], f);
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
            Tensor::<1>::from_floats(v.as_slice(), &device).reshape([batch, seq, heads * dim])
        };
        let (q, k, v) = (random(1), random(2), random(3));
        // The same q as a strided view: a `[batch, hidden, seq]` buffer with its last two axes swapped.
        let q_strided = Tensor::<3>::from_data(q.clone().swap_dims(1, 2).into_data(), &device).swap_dims(1, 2);
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
        let split = |t: Tensor<3>| t.reshape([batch, seq, heads, dim]).swap_dims(1, 2);
        let burns = module::attention(split(q.clone()), split(k.clone()), split(v.clone()), Some(mask.clone()), None, AttentionModuleOptions::default());
        let burns = burns.swap_dims(1, 2).reshape([batch, seq, heads * dim]).into_data().try_into_vec::<f32>().unwrap();
        for q in [q, q_strided] {
            let ours = attention(q, k.clone(), v.clone(), heads, mask.clone()).into_data().try_into_vec::<f32>().unwrap();
            let d = ours.iter().zip(&burns).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(d < 1e-5, "max abs diff {d}");
        }
    }

    #[test]
    fn linear_matches_burns_with_and_without_bias_gelu_and_strided_inputs() {
        use burn::nn::LinearConfig;
        let device = Device::flex();
        // Large enough for the parallel GEMM path; the input is a transposed view.
        let (rows, din, dout) = (300, 200, 130);
        let values: Vec<f32> = (0..rows * din).map(|i| ((i * 2_654_435_761) % 2000) as f32 / 500.0 - 2.0).collect();
        let x = Tensor::<1>::from_floats(values.as_slice(), &device).reshape([din, rows]).transpose();
        for bias in [true, false] {
            let lin = LinearConfig::new(din, dout).with_bias(bias).init(&device);
            for act in [false, true] {
                let ours = linear(&lin, x.clone(), act).into_data().try_into_vec::<f32>().unwrap();
                let y = lin.forward(x.clone());
                let reference = if act { activation::gelu(y) } else { y };
                let reference = reference.into_data().try_into_vec::<f32>().unwrap();
                let d = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
                assert!(d < 1e-4, "bias {bias} gelu {act}: max abs diff {d}");
            }
        }
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
