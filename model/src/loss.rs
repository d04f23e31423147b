//! Losses.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// Class-weighted cross-entropy with PyTorch's reduction: `Σ w_y · (−log p_y) / Σ w_y`.
///
/// # Shapes
/// - `logits`: `[n, classes]`
/// - `targets`: `[n]` class ids
/// - `weights`: `[classes]`
/// - output: `[1]`
pub fn weighted_cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>, weights: Tensor<1>) -> Tensor<1> {
    let [n, _] = logits.dims();
    let picked = log_softmax(logits, 1).gather(1, targets.clone().reshape([n, 1])).reshape([n]);
    let w = weights.select(0, targets);
    (picked * w.clone()).sum().neg() / w.sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn matches_hand_computation() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 0.0, 0.0, 1.0], [2, 2]), &device);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
        let weights = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, 2.0], [2]), &device);
        let got: f32 = weighted_cross_entropy(logits, targets, weights).into_scalar();
        let ce = |a: f32, b: f32| -(a - (a.exp() + b.exp()).ln());
        let want = (0.5 * ce(2.0, 0.0) + 2.0 * ce(1.0, 0.0)) / 2.5;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
}
