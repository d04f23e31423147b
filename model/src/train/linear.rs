//! The linear head's loss and gradients in closed form, without an autodiff graph.
//!
//! For logits `z = x·W + b`, row weights `rᵢ = w_{yᵢ} / Σⱼ w_{yⱼ}` (PyTorch's weighted mean, as
//! [`crate::loss::weighted_cross_entropy`]) and `T = onehot(y) ⊙ r`, the loss
//! `−Σ T ⊙ log softmax(z) + λ‖W‖²` has `∂/∂z = softmax(z) ⊙ r − T`, so
//! `∂/∂W = xᵀ·∂z + 2λW` and `∂/∂b = Σᵢ ∂zᵢ`. Both products go through
//! [`crate::encoder::kernels::matmul`]: on a software WebGPU adapter (headless Chromium's SwiftShader,
//! lavapipe) Burn's matmul takes ~0.2 s for each of these skinny products and was nearly all of a
//! training epoch; autodiff cannot route its backward products to another kernel.
//! The tests below check them against autodiff's.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::TensorData;

use crate::encoder::kernels::matmul;

/// One batch of training rows, on a plain (not autodiff) device.
pub(crate) struct LinearBatch {
    /// `[n, d_in]` features.
    x: Tensor<2>,
    /// `[n, n_tags]`: `onehot(y) ⊙ r`.
    target: Tensor<2>,
    /// `[n, 1]`: `r`.
    row_weight: Tensor<2>,
}

impl LinearBatch {
    /// `x: [n, d_in]` features on a plain device, their `n` tag ids and the `n_tags` class weights.
    /// The targets are built on the host: Burn's `one_hot` reads its input back synchronously,
    /// which WebGPU in the browser cannot do.
    pub(crate) fn new(x: Tensor<2>, tags: &[usize], class_weights: &[f32]) -> Self {
        let (n, n_tags, device) = (tags.len(), class_weights.len(), x.device());
        let total: f32 = tags.iter().map(|&t| class_weights[t]).sum();
        let r: Vec<f32> = tags.iter().map(|&t| class_weights[t] / total).collect();
        let mut target = vec![0.0f32; n * n_tags];
        for (i, &t) in tags.iter().enumerate() {
            target[i * n_tags + t] = r[i];
        }
        Self {
            x,
            target: Tensor::from_data(TensorData::new(target, [n, n_tags]), &device),
            row_weight: Tensor::from_data(TensorData::new(r, [n, 1]), &device),
        }
    }

    /// The loss (`[1]`) and the gradients of the weight (`[d_in, n_tags]`) and bias (`[n_tags]`)
    /// of `head` (whose tensors may be autodiff ones; they are read as constants), with the L2
    /// penalty `l2 · ‖W‖²`.
    pub(crate) fn loss_and_grads(&self, head: &Linear, l2: f32) -> (Tensor<1>, Tensor<2>, Tensor<1>) {
        let weight = head.weight.val().inner();
        let mut z = matmul(self.x.clone(), weight.clone());
        if let Some(b) = &head.bias {
            z = z + b.val().inner().unsqueeze::<2>();
        }
        let log_p = log_softmax(z, 1);
        let loss = (log_p.clone() * self.target.clone()).sum().neg() + weight.clone().square().sum() * l2;
        let dz = log_p.exp() * self.row_weight.clone() - self.target.clone();
        let dw = matmul(self.x.clone().transpose(), dz.clone()) + weight * (2.0 * l2);
        let db = dz.sum_dim(0).reshape([-1]);
        (loss, dw, db)
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use crate::loss::weighted_cross_entropy;
    use burn::nn::LinearConfig;

    /// The closed form gives autodiff's loss and gradients (weighted classes, a tag with no
    /// row, the L2 penalty).
    #[test]
    fn closed_form_gradients_equal_autodiffs() {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let (n, d, tags, l2) = (13, 6, 5, 0.05f32);
        let x: Vec<f32> = (0..n * d).map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0).collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [n, d]), &device);
        let ids: Vec<usize> = (0..n).map(|i| i * 3 % 4).collect();
        let y = Tensor::<1, Int>::from_data(TensorData::new(ids.iter().map(|&t| t as i64).collect::<Vec<_>>(), [n]), &device);
        let class_weights = [0.3f32, 1.0, 2.0, 1.5, 1.0];
        let w = Tensor::<1>::from_data(TensorData::new(class_weights.to_vec(), [tags]), &device);
        ad.seed(3);
        let head = LinearConfig::new(d, tags).init(&ad);

        let (loss, dw, db) = LinearBatch::new(x.clone(), &ids, &class_weights).loss_and_grads(&head, l2);

        let reference = weighted_cross_entropy(head.forward(x.autodiff()), y.autodiff(), w.autodiff())
            + head.weight.val().square().sum() * l2;
        let grads = reference.backward();
        let close = |a: Tensor<1>, b: Tensor<1>, what: &str| {
            let (a, b) = (a.into_data().try_into_vec::<f32>().unwrap(), b.into_data().try_into_vec::<f32>().unwrap());
            let worst = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "{what}: max |diff| {worst} ({a:?} vs {b:?})");
        };
        close(loss, reference.inner(), "loss");
        close(dw.reshape([-1]), head.weight.val().grad(&grads).unwrap().reshape([-1]), "weight gradient");
        close(db, head.bias.as_ref().unwrap().val().grad(&grads).unwrap(), "bias gradient");
    }
}
