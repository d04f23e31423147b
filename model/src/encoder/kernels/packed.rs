//! `x·W + b` through rten-gemm with `W` packed once into the kernel's panel layout.
//!
//! For a sentence (a few dozen rows), a GEMM is bound by reading the weights, and an unpacked
//! GEMM re-packs all of them on every call. Packing once took one 18-token sentence from 25.9 to
//! 16.5 ms in headless Chromium (one wasm thread) and from 5.4 to 3.8 ms natively
//! (docs/BENCHMARKS.md). Packed weights are cached per weight buffer (see [`packed`]).

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

/// A packed weight, valid while its source buffer lives with the same layout.
struct Entry {
    source: Weak<Bytes>,
    layout: (usize, [usize; 2], [isize; 2]),
    packed: Arc<PackedBMatrix<f32>>,
}

/// Packed weights, keyed by their source buffer. The `Weak` keeps the buffer's allocation from
/// being reused while its entry exists, so a new weight (after fine-tuning) never meets the
/// packing of an old one; entries of dropped weights are pruned when a new one is packed.
static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// `x·w (+ bias)` as a row-major `[m, n]` vector.
///
/// # Shapes
/// - `x`: `[m, k]` (any non-negative strides); `w`: `[k, n]`; `bias`: `[n]`
pub fn linear(x: &FlexTensor, w: &FlexTensor, bias: Option<&[f32]>) -> Vec<f32> {
    let a = view(x);
    let m = x.layout().shape()[0];
    let packed = packed(w);
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

/// The packing of `w`, from the cache or made now.
fn packed(w: &FlexTensor) -> Arc<PackedBMatrix<f32>> {
    let source = w.data_arc();
    let layout = w.layout();
    let key = (layout.start_offset(), [layout.shape()[0], layout.shape()[1]], [layout.strides()[0], layout.strides()[1]]);
    // A panic while packing leaves the list itself intact: keep using it.
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = cache.iter().find(|e| e.layout == key && std::ptr::eq(e.source.as_ptr(), Arc::as_ptr(&source))) {
        return e.packed.clone();
    }
    cache.retain(|e| e.source.strong_count() > 0);
    let packed = Arc::new(EXECUTOR.with(|exec| exec.prepack_b(view(w))));
    cache.push(Entry { source: Arc::downgrade(&source), layout: key, packed: packed.clone() });
    packed
}
