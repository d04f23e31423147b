//! The 8-bit GEMM of [`super::int8`] on WebAssembly's relaxed SIMD dot product,
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s`: 16 multiply-adds in one instruction (x86: `pmaddubsw` +
//! `pmaddwd` + `paddd`, or one `vpdpbusd` with AVX-VNNI; Arm: `sdot`), where rten-gemm's wasm int8
//! kernel emulates the dot with widening multiplies, pairwise adds and shuffles (eight
//! instructions). The multi-threaded browser build has relaxed SIMD; the one-thread build runs the
//! same tiles on standard SIMD's `i32x4.dot_i16x8_s` instead (see [`lanes`]).
//!
//! The instruction multiplies signed bytes by 7-bit ones (0..=127; with the top bit set its result
//! differs between CPUs). So the activations keep their 8 bits, stored as `xs = qx − 128` (`qx` and
//! its zero point `z` from [`super::int8::quantize_rows`]), and the weights 7 bits, stored as
//! `wu = q + 64` (`q` in [−63, 63], as the AVX2 path's reduced range):
//!
//! `Σₖ (qx − z)·q = Σₖ (xs + 128 − z)(wu − 64) = Σₖ xs·wu − 64·Σₖ xs + (128 − z)·Σₖ q`
//!
//! The row sums `Σₖ xs` come with the activations' quantisation, the column sums `Σₖ q` with the
//! weights'. Every pairwise sum stays inside i16 (2·128·127 < 2¹⁵), so the instruction has one
//! result on every CPU, and the sums are exact.
//!
//! Tiles of [`MR`] × [`NR`] outputs: the weights are packed once, per [`NR`] columns 4 depths ×
//! [`NR`] columns in 32 bytes; the activations are read in place, a row's 4 bytes splat across a
//! vector. The epilogue applies the sums, both scales and the bias on vectors. Tasks of up to
//! [`TASK`] × [`TASK`] outputs run on the rayon pool. Outside wasm (the native tests) the same code
//! runs on a portable model of the relaxed instruction.

mod lanes;

use burn::backend::flex::FlexTensor;

use super::int8::{quantize_columns, quantize_value, row_major, row_step};
use super::weight_cache::{side_by_side, WeightCache};
use lanes::{dot, load, splat4, zero};
pub use lanes::MR;

/// Columns per tile: two vectors of four.
pub const NR: usize = 8;
/// Depths per 32-bit lane of the dot product.
const GROUP: usize = 4;
/// Rows and columns per task (multiples of [`MR`] and [`NR`]).
const TASK: usize = 64;

/// Weights quantised to 7 bits per column and packed in tiles.
pub struct Packed {
    /// Per block of [`NR`] columns, per [`GROUP`] depths: [`NR`] columns × [`GROUP`] depths of `q + 64`;
    /// zero past the last depth and column.
    data: Vec<u8>,
    k: usize,
    n: usize,
    /// Per column, zero past `n`: `Σₖ q`, and the f32 value of one step.
    col_sums: Vec<i32>,
    scales: Vec<f32>,
}

/// Activations quantised per row, as the kernel reads them.
pub struct Rows {
    /// `qx − 128`, row-major, rows padded to a multiple of [`MR`] and depths to [`GROUP`] with zeros.
    xs: Vec<i8>,
    stride: usize,
    /// Per row: `−64·Σₖ xs`, `128 − z`, and the f32 value of one step.
    shift: Vec<i32>,
    zc: Vec<i32>,
    scales: Vec<f32>,
}

static CACHE: WeightCache<Packed> = WeightCache::new();

/// `x·[w₁ w₂ …] (+ bias)` as a row-major `[m, n]` vector, in 8-bit arithmetic (see the module).
///
/// # Shapes
/// - `x`: `[m, k]` (any non-negative strides); each of `ws`: `[k, nᵢ]`; `bias`: `[n]`, n = Σ nᵢ
pub fn linear(x: &FlexTensor, ws: &[FlexTensor], bias: Option<&[f32]>) -> Vec<f32> {
    let w = CACHE.get(ws, |ws| {
        let (values, [k, n]) = side_by_side(ws);
        let (q, scales) = quantize_columns(&values, [k, n], 63.0);
        pack(&q, &scales, [k, n])
    });
    let (m, k) = (x.layout().shape()[0], x.layout().shape()[1]);
    gemm(&Rows::quantize(&row_major(x, [m, k]), [m, k]), m, &w, bias)
}

/// Packs row-major `[k, n]` weights quantised to [−63, 63] with their per-column steps.
pub fn pack(q: &[i8], scales: &[f32], [k, n]: [usize; 2]) -> Packed {
    let (groups, blocks) = (k.div_ceil(GROUP), n.div_ceil(NR));
    let mut data = vec![0u8; blocks * groups * NR * GROUP];
    let mut col_sums = vec![0i32; blocks * NR];
    for d in 0..k {
        for c in 0..n {
            let v = q[d * n + c];
            assert!((-63..=63).contains(&v), "a 7-bit weight, got {v}");
            let (block, col, group, lane) = (c / NR, c % NR, d / GROUP, d % GROUP);
            data[((block * groups + group) * NR + col) * GROUP + lane] = (v + 64) as u8;
            col_sums[c] += v as i32;
        }
    }
    let mut padded_scales = scales.to_vec();
    padded_scales.resize(blocks * NR, 0.0);
    Packed { data, k, n, col_sums, scales: padded_scales }
}

impl Rows {
    /// Quantises row-major `[m, k]` activations per row as [`super::int8::quantize_rows`] does,
    /// straight into the kernel's layout, rows in parallel.
    pub fn quantize(x: &[f32], [m, k]: [usize; 2]) -> Self {
        let stride = k.div_ceil(GROUP) * GROUP;
        let mut xs = vec![0i8; m.div_ceil(MR) * MR * stride];
        let row = |(row, dst): (&[f32], &mut [i8])| {
            let (scale, zero) = row_step(row);
            let inv = 1.0 / scale;
            let shift = store_row(dst, row.iter().map(|&v| quantize_value(v, inv, zero)));
            (shift, 128 - zero as i32, scale)
        };
        #[cfg(feature = "parallel")]
        let per_row: Vec<(i32, i32, f32)> = {
            use rayon::prelude::*;
            x.par_chunks_exact(k).zip(xs.par_chunks_exact_mut(stride)).with_min_len(16).map(row).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let per_row: Vec<(i32, i32, f32)> = x.chunks_exact(k).zip(xs.chunks_exact_mut(stride)).map(row).collect();
        let (mut shift, mut zc, mut scales) = (Vec::with_capacity(m), Vec::with_capacity(m), Vec::with_capacity(m));
        for (s, z, sc) in per_row {
            shift.push(s);
            zc.push(z);
            scales.push(sc);
        }
        Self { xs, stride, shift, zc, scales }
    }

    /// From u8 activations `qx` (row-major `[m, k]`) with per-row steps and zero points.
    #[cfg(test)]
    pub fn new(qx: &[u8], scales: &[f32], zeros: &[u8], [m, k]: [usize; 2]) -> Self {
        let stride = k.div_ceil(GROUP) * GROUP;
        let mut xs = vec![0i8; m.div_ceil(MR) * MR * stride];
        let shift = qx.chunks_exact(k).zip(xs.chunks_exact_mut(stride)).map(|(row, dst)| store_row(dst, row.iter().copied())).collect();
        let zc = zeros.iter().map(|&z| 128 - z as i32).collect();
        Self { xs, stride, shift, zc, scales: scales.to_vec() }
    }
}

/// Stores a row's u8 activations as `qx − 128` in `dst`; returns the row's `−64·Σₖ xs`.
fn store_row(dst: &mut [i8], qx: impl Iterator<Item = u8>) -> i32 {
    let mut sum = 0i32;
    for (d, q) in dst.iter_mut().zip(qx) {
        *d = (q as i16 - 128) as i8;
        sum += *d as i32;
    }
    -64 * sum
}

/// `y[r, c] = s_x[r]·s_w[c]·Σₖ (qx[r, k] − z[r])·q[k, c] + bias[c]`, row-major `[m, n]`.
pub fn gemm(x: &Rows, m: usize, w: &Packed, bias: Option<&[f32]>) -> Vec<f32> {
    assert_eq!(x.stride, w.k.div_ceil(GROUP) * GROUP, "activations and weights of the same depth");
    let n = w.n;
    let mut bias_padded = bias.map_or_else(Vec::new, <[f32]>::to_vec);
    bias_padded.resize(w.col_sums.len(), 0.0);
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    let dst = OutPtr(out.as_mut_ptr());
    let (row_tasks, col_tasks) = (m.div_ceil(TASK), n.div_ceil(TASK));
    let task = |t: usize| {
        let (rows, cols) = ((t / col_tasks) * TASK, (t % col_tasks) * TASK);
        for c0 in (cols..(cols + TASK).min(n)).step_by(NR) {
            for r0 in (rows..(rows + TASK).min(m)).step_by(MR) {
                // SAFETY: tasks write disjoint tiles of `out`, inside its capacity (r0 < m, c0 < n).
                unsafe { tile(x, w, &bias_padded, [m, n], [r0, c0], dst) };
            }
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..row_tasks * col_tasks).into_par_iter().for_each(task);
    }
    #[cfg(not(feature = "parallel"))]
    (0..row_tasks * col_tasks).for_each(task);
    // SAFETY: the tiles cover all m·n outputs, each written once.
    unsafe { out.set_len(m * n) };
    out
}

/// The output buffer, shared by tasks that write disjoint tiles.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: see `gemm`: every task writes its own tiles.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// One [`MR`] × [`NR`] tile at rows `r0..`, columns `c0..`: the dot products over the whole depth,
/// then the epilogue into `out` (rows past `m` and columns past `n` are not written).
///
/// # Safety
/// `out` holds `m·n` floats; `r0 < m`, `c0 < n`, `c0` a multiple of [`NR`], `r0` of [`MR`].
#[inline(always)]
unsafe fn tile(x: &Rows, w: &Packed, bias: &[f32], [m, n]: [usize; 2], [r0, c0]: [usize; 2], out: OutPtr) {
    let groups = x.stride / GROUP;
    let b = w.data[(c0 / NR) * groups * NR * GROUP..].as_ptr();
    let a = x.xs[r0 * x.stride..(r0 + MR) * x.stride].as_ptr();
    let mut acc = [[zero(); 2]; MR];
    for g in 0..groups {
        // SAFETY: the block holds `groups` groups of NR × GROUP bytes; the panel MR rows of `stride`.
        unsafe {
            let (b0, b1) = (load(b.add(g * NR * GROUP)), load(b.add(g * NR * GROUP + 16)));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = splat4(a.add(r * x.stride + g * GROUP));
                acc[0] = dot(av, b0, acc[0]);
                acc[1] = dot(av, b1, acc[1]);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate().take(m - r0) {
        let row = r0 + r;
        let (shift, zc, sx) = (x.shift[row], x.zc[row], x.scales[row]);
        for (h, &acc) in acc.iter().enumerate() {
            let c = c0 + 4 * h;
            if c >= n {
                break;
            }
            let floats = lanes::epilogue(acc, shift, zc, &w.col_sums[c..c + 4], sx, &w.scales[c..c + 4], &bias[c..c + 4]);
            // SAFETY: row < m and c < n; at most the n − c columns left in the row.
            unsafe { floats.store(out.0.add(row * n + c), (n - c).min(4)) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel against the sum written out, through the portable model of the instructions:
    /// shapes with partial tiles and tasks, full-range activations and zero points, all 7-bit
    /// weights. Steps of 1 and no bias keep the outputs the exact integer sums.
    #[test]
    fn the_tiled_gemm_is_the_integer_sum() {
        for (m, k, n) in [(7, 301, 70), (18, 384, 1536), (130, 384, 100), (1, 1536, 12)] {
            let qx: Vec<u8> = (0..m * k).map(|i| ((i * 2_654_435_761) % 256) as u8).collect();
            let zeros: Vec<u8> = (0..m).map(|r| (r * 37 % 256) as u8).collect();
            let q: Vec<i8> = (0..k * n).map(|i| ((i * 40_503) % 127) as i8 - 63).collect();
            let w = pack(&q, &vec![1.0; n], [k, n]);
            let ours = gemm(&Rows::new(&qx, &vec![1.0; m], &zeros, [m, k]), m, &w, None);
            assert_eq!(ours.len(), m * n);
            for r in 0..m {
                for c in 0..n {
                    let want: i32 = (0..k).map(|j| (qx[r * k + j] as i32 - zeros[r] as i32) * q[j * n + c] as i32).sum();
                    assert_eq!(ours[r * n + c], want as f32, "{m}×{k}×{n}: row {r} column {c}");
                }
            }
        }
    }

    #[test]
    fn quantising_in_place_is_quantising_then_converting() {
        let (m, k) = (37, 30);
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 3.0 + (i / k) as f32 * 0.1).collect();
        let (qx, scales, zeros) = super::super::int8::quantize_rows(&x, [m, k]);
        let (a, b) = (Rows::quantize(&x, [m, k]), Rows::new(&qx, &scales, &zeros, [m, k]));
        assert_eq!((a.xs, a.stride, a.shift, a.zc, a.scales), (b.xs, b.stride, b.shift, b.zc, b.scales));
    }

    #[test]
    fn scales_and_bias_apply_per_row_and_column() {
        let (m, k, n) = (5, 8, 9);
        let qx: Vec<u8> = (0..m * k).map(|i| (i * 7 % 256) as u8).collect();
        let zeros: Vec<u8> = (0..m).map(|r| 100 + r as u8).collect();
        let q: Vec<i8> = (0..k * n).map(|i| (i % 11) as i8 - 5).collect();
        let (sx, sw): (Vec<f32>, Vec<f32>) = ((0..m).map(|r| 0.5 + r as f32).collect(), (0..n).map(|c| 0.25 * (c + 1) as f32).collect());
        let bias: Vec<f32> = (0..n).map(|c| c as f32 - 3.0).collect();
        let ours = gemm(&Rows::new(&qx, &sx, &zeros, [m, k]), m, &pack(&q, &sw, [k, n]), Some(&bias));
        for r in 0..m {
            for c in 0..n {
                let sum: i32 = (0..k).map(|j| (qx[r * k + j] as i32 - zeros[r] as i32) * q[j * n + c] as i32).sum();
                let want = sum as f32 * (sx[r] * sw[c]) + bias[c];
                assert!((ours[r * n + c] - want).abs() <= 1e-4 * want.abs().max(1.0), "row {r} column {c}: {} vs {want}", ours[r * n + c]);
            }
        }
    }
}
