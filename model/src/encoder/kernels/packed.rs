//! `x·W + b` through rten-gemm with `W` packed once into the kernel's panel layout.
//!
//! For a sentence (a few dozen rows), a GEMM is bound by reading the weights, and an unpacked
//! GEMM re-packs all of them on every call. Packing once took one 18-token sentence from 25.9 to
//! 16.5 ms in headless Chromium (one wasm thread) and from 5.4 to 3.8 ms natively
//! (docs/BENCHMARKS.md). Packed weights are cached per weight buffer (see [`packed`]). Several
//! weights that read the same input (a layer's query, key and value) are packed side by side into
//! one matrix, for one GEMM.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use burn::backend::flex::FlexTensor;
use burn::tensor::Bytes;
use rten_gemm::{BiasVector, GemmExecutor, GemmInputA, GemmInputB, GemmUninitOptions, PackedBMatrix};
use rten_tensor::NdTensorView;

thread_local! {
    /// The executor picks its kernel (AVX-512, AVX2+FMA, wasm SIMD128...) at run time; every
    /// thread picks the same one, so packed matrices are shared between threads.
    static EXECUTOR: GemmExecutor<f32> = GemmExecutor::new();
}

/// Where a weight lies in its buffer: start offset, shape, strides.
type Layout = (usize, [usize; 2], [isize; 2]);

/// A packed matrix of weights side by side, valid while their source buffers live with the same
/// layouts.
struct Entry {
    sources: Vec<(Weak<Bytes>, Layout)>,
    packed: Arc<PackedBMatrix<f32>>,
}

/// Packed weights, keyed by their source buffers. The `Weak` keeps the buffer's allocation from
/// being reused while its entry exists, so a new weight (after fine-tuning) never meets the
/// packing of an old one; entries of dropped weights are pruned when a new one is packed.
static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

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

/// An rten view of a 2-D f32 Flex tensor.
fn view(t: &FlexTensor) -> NdTensorView<'_, f32, 2> {
    let layout = t.layout();
    let (dims, s) = (layout.shape(), layout.strides());
    assert!(dims.num_dims() == 2 && s[0] >= 0 && s[1] >= 0, "a 2-D view with positive strides");
    let data = &t.storage::<f32>()[layout.start_offset()..];
    NdTensorView::from_slice_with_strides([dims[0], dims[1]], data, [s[0] as usize, s[1] as usize])
        .expect("a view inside its buffer")
}

/// The packing of `ws` side by side, from the cache or made now.
fn packed(ws: &[FlexTensor]) -> Arc<PackedBMatrix<f32>> {
    let keys: Vec<(Arc<Bytes>, Layout)> = ws
        .iter()
        .map(|w| {
            let l = w.layout();
            (w.data_arc(), (l.start_offset(), [l.shape()[0], l.shape()[1]], [l.strides()[0], l.strides()[1]]))
        })
        .collect();
    let same = |e: &Entry| {
        e.sources.len() == keys.len()
            && e.sources.iter().zip(&keys).all(|((weak, l), (arc, key))| l == key && std::ptr::eq(weak.as_ptr(), Arc::as_ptr(arc)))
    };
    // A panic while packing leaves the list itself intact: keep using it.
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = cache.iter().find(|e| same(e)) {
        return e.packed.clone();
    }
    cache.retain(|e| e.sources.iter().all(|(weak, _)| weak.strong_count() > 0));
    let packed = Arc::new(match ws {
        [w] => EXECUTOR.with(|exec| exec.prepack_b(view(w))),
        _ => {
            let k = ws[0].layout().shape()[0];
            let n: usize = ws.iter().map(|w| w.layout().shape()[1]).sum();
            let mut joined = vec![0.0f32; k * n];
            let mut col = 0;
            for w in ws {
                let v = view(w);
                let (rows, width) = (w.layout().shape()[0], w.layout().shape()[1]);
                assert_eq!(rows, k, "weights read the same input");
                for r in 0..k {
                    for (c, out) in joined[r * n + col..r * n + col + width].iter_mut().enumerate() {
                        *out = v[[r, c]];
                    }
                }
                col += width;
            }
            let view = NdTensorView::from_slice_with_strides([k, n], &joined[..], [n, 1]).expect("k×n values");
            EXECUTOR.with(|exec| exec.prepack_b(view))
        }
    });
    cache.push(Entry { sources: keys.iter().map(|(arc, l)| (Arc::downgrade(arc), *l)).collect(), packed: packed.clone() });
    packed
}
