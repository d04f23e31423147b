//! The Flex implementations behind [`super`]: direct access to Flex buffers through
//! `Tensor::try_into_primitive::<Flex>()`; the linear GEMM on packed weights ([`super::packed`]),
//! the attention GEMMs through the `gemm` crate that Flex itself uses.

use burn::backend::Flex;
use burn::prelude::*;

/// Elements per task: large enough to amortise scheduling, small enough to split a
/// `[32, 128, 1536]` activation over the cores.
#[cfg(feature = "parallel")]
const CHUNK: usize = 1 << 16;

/// See [`super::linear`] and [`super::linears`]: `x` times the weights side by side, plus their
/// biases, as one `[m, Σ out]` tensor. Natively, big batches (at least [`PACKED_MAX_ROWS`] rows)
/// go to the `gemm` crate, which Flex itself uses: on this machine it is ~9% faster than rten-gemm
/// at 4,096 rows, while rten-gemm on packed weights takes a sentence from 5.4 to 3.8 ms. In wasm,
/// rten-gemm is as fast at 32 × 128 and much faster on a sentence, so wasm always uses it
/// (docs/BENCHMARKS.md). With [`super::set_int8`] on, every size goes to the 8-bit GEMM.
pub fn linear(x: Tensor<2>, weights: &[Tensor<2>], biases: &[Option<Tensor<1>>], gelu: bool) -> Tensor<2> {
    let [m, k] = x.dims();
    let widths: Vec<usize> = weights.iter().map(|w| w.dims()[1]).collect();
    let n: usize = widths.iter().sum();
    let x = x.try_into_primitive::<Flex>().expect("checked by on_plain_flex");
    let ws: Vec<_> = weights.iter().map(|w| w.clone().try_into_primitive::<Flex>().expect("checked by on_plain_flex")).collect();
    let bias = biases.iter().any(Option::is_some).then(|| {
        biases
            .iter()
            .zip(&widths)
            .flat_map(|(b, &w)| match b {
                Some(b) => strided_row(&b.clone().reshape([1, w]).try_into_primitive::<Flex>().expect("same device as the weight"), 0),
                None => vec![0.0; w],
            })
            .collect::<Vec<f32>>()
    });
    let mut out = if super::int8() {
        super::int8::linear(&x, &ws, bias.as_deref())
    } else if cfg!(target_family = "wasm") || m < PACKED_MAX_ROWS {
        super::packed::linear(&x, &ws, bias.as_deref())
    } else {
        gemm_linear(&x, &ws, bias.as_deref(), [m, k, n])
    };
    if gelu {
        use rten_simd::SimdUnaryOp;
        for_chunks(&mut out, |c| {
            rten_vecmath::Gelu {}.map_mut(c);
        });
    }
    tensor_of(out, [m, n])
}

/// Rows from which native builds use [`gemm_linear`].
const PACKED_MAX_ROWS: usize = 1024;

/// `x·[w₁ w₂ …] (+ bias)` through the `gemm` crate: one GEMM per weight, each into its columns of
/// one buffer pre-filled with the bias.
fn gemm_linear(x: &burn::backend::flex::FlexTensor, ws: &[burn::backend::flex::FlexTensor], bias: Option<&[f32]>, [m, k, n]: [usize; 3]) -> Vec<f32> {
    let mut out: Vec<f32> = match bias {
        Some(b) => rows_of(b, m),
        None => vec![0.0; m * n],
    };
    let (x_ptr, x_rs, x_cs) = matrix(x);
    let mut col = 0;
    for w in ws {
        let (w_ptr, w_rs, w_cs) = matrix(w);
        let width = w.layout().shape()[1];
        assert_eq!(w.layout().shape()[0], k, "a weight of {k} rows");
        #[cfg(feature = "parallel")]
        let parallelism = if m * width * k >= 192 * 192 * 192 { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
        #[cfg(not(feature = "parallel"))]
        let parallelism = gemm::Parallelism::None;
        // SAFETY: `out` holds m×n f32 in row-major order and col + width ≤ n; `x_ptr` and `w_ptr`
        // point into live Flex buffers whose layouts (checked in `matrix`) cover m×k and k×width
        // elements at the given strides; the buffers do not overlap `out`.
        unsafe {
            gemm::gemm(
                m, width, k,
                out[col..].as_mut_ptr(), 1, n as isize, bias.is_some(),
                x_ptr, x_cs, x_rs,
                w_ptr, w_cs, w_rs,
                1.0, 1.0, false, false, false, parallelism,
            );
        }
        col += width;
    }
    out
}

/// A Flex tensor owning `values` (row-major), without the copy Flex's own outputs make.
fn tensor_of<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
    use burn::backend::flex::{FlexTensor, Layout};
    use burn::tensor::{Bytes, DType, Shape};
    let t = FlexTensor::new(Bytes::from_elems(values), Layout::contiguous(Shape::new(shape)), DType::F32);
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
    tensor_of(out, [batch, seq, hidden])
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
