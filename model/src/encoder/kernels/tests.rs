//! Each kernel against the Burn op it replaces.

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
