//! A register-tiled matmul for WebGPU/Vulkan adapters that run shaders on the CPU.
//!
//! Software adapters (Mesa's lavapipe natively, SwiftShader in Chromium) run a workgroup's
//! invocations as SIMD lanes of one CPU thread. cubek's tiled kernels stage tiles through
//! workgroup memory with barriers and pad short inputs (a sentence's 18 rows) to tiles of 64 or
//! 128 rows; on lavapipe they reach ~1.5 GFLOP/s. Here every invocation computes `TM` rows ×
//! `TN` `vec4` columns of the output in registers straight from global memory: no shared memory, no barrier,
//! no padding (rows and columns past the edge are clamped on read and skipped on write).

use burn::tensor::Shape;
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

/// Rows per invocation. With [`TN`], the best of the shapes tried on lavapipe (`nuner bench
/// --device wgpu --batch 1 --seq 18`: 4×2 vectors 630–700 ms per pass, 8×2 498, 8×4 428, 16×4 417,
/// 8×8 472; Burn's matmul 1,307–1,362; docs/BENCHMARKS.md).
const TM: usize = 8;
/// Column vectors (of [`VEC`]) per invocation.
const TN: usize = 4;
/// Elements per vector: loads and the accumulators are `vec4<f32>`.
const VEC: usize = 4;
/// Invocations per workgroup along the columns and the rows, for outputs of 16 or more column
/// blocks; narrower outputs (a head's 9 tags: 3 blocks) get fewer columns and more rows per
/// workgroup ([`group`]), so that a workgroup's SIMD lanes are not mostly past the edge.
const GROUP: (u32, u32) = (16, 4);

/// `out[r, c] = Σₖ x[r, k]·w[k, c]` for contiguous row-major `x: [rows, depth]`,
/// `w: [depth, cols]`, `out: [rows, cols]`, read and written as vectors of `N` (which divides
/// `depth` and `cols`); invocation `(X, Y)` owns rows `Y·tm..` and column vectors `X·tn..`.
#[cube(launch_unchecked)]
fn matmul_kernel<F: Float, N: Size>(
    x: &Tensor<Vector<F, N>>,
    w: &Tensor<Vector<F, N>>,
    out: &mut Tensor<Vector<F, N>>,
    #[comptime] tm: usize,
    #[comptime] tn: usize,
    #[define(F)] _dtype: ElemType,
) {
    let v = x.vector_size();
    let rows = out.shape(0);
    let cols = out.shape(1) / v;
    let depth = x.shape(1) / v;
    let row0 = ABSOLUTE_POS_Y as usize * tm;
    let col0 = ABSOLUTE_POS_X as usize * tn;
    if row0 >= rows || col0 >= cols {
        terminate!();
    }
    let mut acc = Array::<Vector<F, N>>::new(tm * tn);
    #[unroll]
    for i in 0..tm * tn {
        acc[i] = Vector::zero();
    }
    // Row starts in x and columns in w, clamped to the last row and column.
    let mut xs = Array::<usize>::new(tm);
    #[unroll]
    for i in 0..tm {
        xs[i] = min(row0 + i, rows - 1) * depth;
    }
    let mut ws = Array::<usize>::new(tn);
    #[unroll]
    for j in 0..tn {
        ws[j] = min(col0 + j, cols - 1);
    }
    let mut xv = Array::<Vector<F, N>>::new(tm);
    let mut wv = Array::<Vector<F, N>>::new(tn);
    for kv in 0..depth {
        #[unroll]
        for i in 0..tm {
            xv[i] = x[xs[i] + kv];
        }
        #[unroll]
        for kk in 0..v {
            let wk = (kv * v + kk) * cols;
            #[unroll]
            for j in 0..tn {
                wv[j] = w[wk + ws[j]];
            }
            #[unroll]
            for i in 0..tm {
                let xb = Vector::<F, N>::new(xv[i].extract(kk));
                #[unroll]
                for j in 0..tn {
                    acc[i * tn + j] += xb * wv[j];
                }
            }
        }
    }
    #[unroll]
    for i in 0..tm {
        if row0 + i < rows {
            #[unroll]
            for j in 0..tn {
                if col0 + j < cols {
                    out[(row0 + i) * cols + col0 + j] = acc[i * tn + j];
                }
            }
        }
    }
}

/// `x·w` with the register-tiled kernel, in `vec4`s when `depth` and `cols` are multiples of 4,
/// else in scalars (a head's 9 tag columns); `None` when the two dtypes differ.
///
/// # Shapes
/// - `x`: `[rows, depth]`; `w`: `[depth, cols]`; output: `[rows, cols]`
pub fn matmul(x: CubeTensor, w: CubeTensor) -> Option<CubeTensor> {
    let [rows, depth] = x.meta.shape().dims();
    let [_, cols] = w.meta.shape().dims();
    if x.dtype != w.dtype {
        return None;
    }
    let vec = if depth % VEC == 0 && cols % VEC == 0 { VEC } else { 1 };
    let (x, w) = (into_contiguous(x), into_contiguous(w));
    let out = empty_device_dtype(x.client.clone(), x.device.clone(), Shape::new([rows, cols]), x.dtype);
    let (gx, gy) = group((cols / vec).div_ceil(TN));
    let groups = |n: usize, per: usize, group: u32| (n.div_ceil(per) as u32).div_ceil(group).max(1);
    let count = CubeCount::Static(groups(cols / vec, TN, gx), groups(rows, TM, gy), 1);
    let dtype = dtype_to_storage_type(x.dtype);
    // SAFETY: every read is clamped into bounds and every write checked against the output's shape.
    unsafe {
        matmul_kernel::launch_unchecked(
            &out.client,
            count,
            CubeDim::new_2d(gx, gy),
            vec,
            x.into_tensor_arg(),
            w.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            TM,
            TN,
            dtype,
        );
    }
    Some(out)
}

/// The workgroup shape for `blocks` column blocks: [`GROUP`]'s size, its columns cut to the
/// power of two that covers `blocks`.
fn group(blocks: usize) -> (u32, u32) {
    let gx = (blocks.max(1) as u32).next_power_of_two().min(GROUP.0);
    (gx, GROUP.0 * GROUP.1 / gx)
}
