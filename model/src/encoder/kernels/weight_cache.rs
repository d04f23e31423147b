//! Weights prepared once (packed into a GEMM kernel's panel layout, or quantised) and cached by
//! the buffers they came from.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use burn::backend::flex::FlexTensor;
use burn::tensor::Bytes;
use rten_tensor::NdTensorView;

/// Where a weight lies in its buffer: start offset, shape, strides.
type Layout = (usize, [usize; 2], [isize; 2]);

/// A preparation of weights side by side, valid while their source buffers live with the same
/// layouts.
struct Entry<P> {
    sources: Vec<(Weak<Bytes>, Layout)>,
    prepared: Arc<P>,
}

/// Prepared weights, keyed by their source buffers. The `Weak` keeps the buffer's allocation from
/// being reused while its entry exists, so a new weight (after fine-tuning) never meets the
/// preparation of an old one; entries of dropped weights are pruned when a new one is prepared.
pub struct WeightCache<P>(Mutex<Vec<Entry<P>>>);

impl<P> WeightCache<P> {
    /// An empty cache (for a `static`).
    pub const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    /// The preparation of `ws` side by side, from the cache or made now by `prepare`.
    pub fn get(&self, ws: &[FlexTensor], prepare: impl FnOnce(&[FlexTensor]) -> P) -> Arc<P> {
        let keys: Vec<(Arc<Bytes>, Layout)> = ws
            .iter()
            .map(|w| {
                let l = w.layout();
                (w.data_arc(), (l.start_offset(), [l.shape()[0], l.shape()[1]], [l.strides()[0], l.strides()[1]]))
            })
            .collect();
        let same = |e: &Entry<P>| {
            e.sources.len() == keys.len()
                && e.sources.iter().zip(&keys).all(|((weak, l), (arc, key))| l == key && std::ptr::eq(weak.as_ptr(), Arc::as_ptr(arc)))
        };
        // A panic while preparing leaves the list itself intact: keep using it.
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = cache.iter().find(|e| same(e)) {
            return e.prepared.clone();
        }
        cache.retain(|e| e.sources.iter().all(|(weak, _)| weak.strong_count() > 0));
        let prepared = Arc::new(prepare(ws));
        cache.push(Entry { sources: keys.iter().map(|(arc, l)| (Arc::downgrade(arc), *l)).collect(), prepared: prepared.clone() });
        prepared
    }
}

/// An rten view of a 2-D f32 Flex tensor.
pub fn view(t: &FlexTensor) -> NdTensorView<'_, f32, 2> {
    let layout = t.layout();
    let (dims, s) = (layout.shape(), layout.strides());
    assert!(dims.num_dims() == 2 && s[0] >= 0 && s[1] >= 0, "a 2-D view with positive strides");
    let data = &t.storage::<f32>()[layout.start_offset()..];
    NdTensorView::from_slice_with_strides([dims[0], dims[1]], data, [s[0] as usize, s[1] as usize])
        .expect("a view inside its buffer")
}

/// `[w₁ w₂ …]`: weights that read the same input (`[k, nᵢ]` each) side by side, row-major `[k, n]`.
pub fn side_by_side(ws: &[FlexTensor]) -> (Vec<f32>, [usize; 2]) {
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
    (joined, [k, n])
}
