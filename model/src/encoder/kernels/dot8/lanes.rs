//! The vector operations of [`super`]'s kernel: relaxed SIMD's dot product (the multi-threaded
//! browser build), standard SIMD's 16-bit dot product (the one-thread build), and a portable model
//! of the first (native builds: the tests). Each names the rows per tile, [`MR`], that fit its
//! accumulators in x86's 16 vector registers.

#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub use relaxed::*;
#[cfg(all(target_arch = "wasm32", not(target_feature = "relaxed-simd")))]
pub use simd128::*;
#[cfg(not(target_arch = "wasm32"))]
pub use portable::*;

/// The vector operations of the kernel on WebAssembly's relaxed SIMD dot product.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
mod relaxed {
    pub use super::wasm::load;
    use super::wasm::{finish, Bytes, Floats};
    use core::arch::wasm32::*;

    /// Rows per tile: 8 accumulators, 2 weight vectors and a splat fit x86's 16 vector registers.
    pub const MR: usize = 4;

    /// Four i32 sums, one per column.
    #[derive(Clone, Copy)]
    pub struct Ints(v128);

    #[inline(always)]
    pub fn zero() -> Ints {
        Ints(i32x4_splat(0))
    }

    /// The 4 bytes at `p` (a row's 4 depths, signed) in every 32-bit lane.
    #[inline(always)]
    pub unsafe fn splat4(p: *const i8) -> Bytes {
        Bytes(unsafe { v128_load32_splat(p.cast()) })
    }

    /// Per column `i`: `c[i] + Σⱼ a[4i + j]·b[4i + j]`, `a`'s bytes signed, `b`'s in 0..=127.
    #[inline(always)]
    pub fn dot(a: Bytes, b: Bytes, c: Ints) -> Ints {
        Ints(i32x4_relaxed_dot_i8x16_i7x16_add(a.0, b.0, c.0))
    }

    /// `(acc + shift + zc·col_sums) as f32 · (sx·w_scales) + bias`, four columns from each slice.
    #[inline(always)]
    pub fn epilogue(acc: Ints, shift: i32, zc: i32, col_sums: &[i32], sx: f32, w_scales: &[f32], bias: &[f32]) -> Floats {
        finish(acc.0, shift, zc, col_sums, sx, w_scales, bias)
    }
}

/// What both wasm variants share.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::arch::wasm32::*;

    /// 16 bytes: a row's 4 depths (as the variant's `splat4` makes them), or 4 depths × 4 columns of
    /// weights (7-bit).
    #[derive(Clone, Copy)]
    pub struct Bytes(pub v128);
    /// Four outputs.
    #[derive(Clone, Copy)]
    pub struct Floats(pub v128);

    /// The 16 bytes at `p`.
    #[inline(always)]
    pub unsafe fn load(p: *const u8) -> Bytes {
        Bytes(unsafe { v128_load(p.cast()) })
    }

    /// The epilogue once a variant has one i32 sum per column in `acc`:
    /// `(acc + shift + zc·col_sums) as f32 · (sx·w_scales) + bias`, four columns from each slice.
    #[inline(always)]
    pub fn finish(acc: v128, shift: i32, zc: i32, col_sums: &[i32], sx: f32, w_scales: &[f32], bias: &[f32]) -> Floats {
        let (col_sums, w_scales, bias) = (load4(col_sums), load4(w_scales), load4(bias));
        let sum = i32x4_add(i32x4_add(acc, i32x4_splat(shift)), i32x4_mul(i32x4_splat(zc), col_sums));
        let scale = f32x4_mul(f32x4_splat(sx), w_scales);
        Floats(f32x4_add(f32x4_mul(f32x4_convert_i32x4(sum), scale), bias))
    }

    /// Four values from the start of `s` (at least four long).
    #[inline(always)]
    fn load4<T: Copy>(s: &[T]) -> v128 {
        assert!(s.len() >= 4 && size_of::<T>() == 4);
        // SAFETY: 16 bytes inside `s`; wasm loads need no alignment.
        unsafe { v128_load(s.as_ptr().cast()) }
    }

    impl Floats {
        /// Writes the first `count` (at most 4) lanes to `dst`.
        ///
        /// # Safety
        /// `dst` is valid for `count` floats.
        #[inline(always)]
        pub unsafe fn store(self, dst: *mut f32, count: usize) {
            if count == 4 {
                unsafe { v128_store(dst.cast(), self.0) };
            } else {
                let lanes: [f32; 4] = unsafe { core::mem::transmute(self.0) };
                unsafe { core::ptr::copy_nonoverlapping(lanes.as_ptr(), dst, count) };
            }
        }
    }
}

/// The same operations on standard WebAssembly SIMD (the one-thread browser build): bytes widened
/// to i16, `i32x4.dot_i16x8_s` (x86 `pmaddwd`) on two columns at a time, the pairs of partial sums
/// added once per tile (docs/BENCHMARKS.md: in the app, the same throughput as f32 on one thread).
#[cfg(all(target_arch = "wasm32", not(target_feature = "relaxed-simd")))]
mod simd128 {
    pub use super::wasm::load;
    use super::wasm::{finish, Bytes, Floats};
    use core::arch::wasm32::*;

    /// Rows per tile: each has twice the accumulators of the relaxed kernel.
    pub const MR: usize = 2;

    /// Per column of four, two partial sums: columns 0 and 1 in the first vector, 2 and 3 in the second.
    #[derive(Clone, Copy)]
    pub struct Ints(v128, v128);

    #[inline(always)]
    pub fn zero() -> Ints {
        Ints(i32x4_splat(0), i32x4_splat(0))
    }

    /// The 4 bytes at `p` (a row's 4 depths) widened to i16, twice.
    #[inline(always)]
    pub unsafe fn splat4(p: *const i8) -> Bytes {
        Bytes(i16x8_extend_low_i8x16(unsafe { v128_load32_splat(p.cast()) }))
    }

    #[inline(always)]
    pub fn dot(a: Bytes, b: Bytes, c: Ints) -> Ints {
        let lo = i32x4_dot_i16x8(a.0, i16x8_extend_low_i8x16(b.0));
        let hi = i32x4_dot_i16x8(a.0, i16x8_extend_high_i8x16(b.0));
        Ints(i32x4_add(c.0, lo), i32x4_add(c.1, hi))
    }

    #[inline(always)]
    pub fn epilogue(acc: Ints, shift: i32, zc: i32, col_sums: &[i32], sx: f32, w_scales: &[f32], bias: &[f32]) -> Floats {
        let (lo, hi) = (acc.0, acc.1);
        let acc = i32x4_add(i32x4_shuffle::<0, 2, 4, 6>(lo, hi), i32x4_shuffle::<1, 3, 5, 7>(lo, hi));
        finish(acc, shift, zc, col_sums, sx, w_scales, bias)
    }
}

/// A portable model of the relaxed SIMD operations, lane by lane (the native tests run the kernel
/// on it).
#[cfg(not(target_arch = "wasm32"))]
mod portable {
    pub const MR: usize = 4;

    #[derive(Clone, Copy)]
    pub struct Bytes([u8; 16]);
    #[derive(Clone, Copy)]
    pub struct Ints([i32; 4]);
    #[derive(Clone, Copy)]
    pub struct Floats([f32; 4]);

    pub fn zero() -> Ints {
        Ints([0; 4])
    }

    pub unsafe fn load(p: *const u8) -> Bytes {
        Bytes(unsafe { p.cast::<[u8; 16]>().read_unaligned() })
    }

    pub unsafe fn splat4(p: *const i8) -> Bytes {
        let four = unsafe { p.cast::<[u8; 4]>().read_unaligned() };
        Bytes(std::array::from_fn(|i| four[i % 4]))
    }

    /// As `i32x4.relaxed_dot_i8x16_i7x16_add_s` with `b` in 0..=127: pairs of products summed in
    /// i16 (they cannot saturate then), pairs of those in i32, plus `c`.
    pub fn dot(a: Bytes, b: Bytes, c: Ints) -> Ints {
        Ints(std::array::from_fn(|lane| {
            let pair = |j: usize| {
                let (i, k) = (4 * lane + j, 4 * lane + j + 1);
                assert!(b.0[i] < 128 && b.0[k] < 128, "a 7-bit operand");
                (a.0[i] as i8 as i16 * b.0[i] as i16) + (a.0[k] as i8 as i16 * b.0[k] as i16)
            };
            c.0[lane] + pair(0) as i32 + pair(2) as i32
        }))
    }

    pub fn epilogue(acc: Ints, shift: i32, zc: i32, col_sums: &[i32], sx: f32, w_scales: &[f32], bias: &[f32]) -> Floats {
        Floats(std::array::from_fn(|i| (acc.0[i] + shift + zc * col_sums[i]) as f32 * (sx * w_scales[i]) + bias[i]))
    }

    impl Floats {
        /// Writes the first `count` (at most 4) lanes to `dst`.
        pub unsafe fn store(self, dst: *mut f32, count: usize) {
            unsafe { core::ptr::copy_nonoverlapping(self.0.as_ptr(), dst, count) };
        }
    }
}
