//! Each kernel against the Burn op it replaces.

use super::*;

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
    // 300 rows: rten-gemm on packed weights; 1,100 rows: natively, the `gemm` crate in parallel.
    // The input is a transposed view.
    let (din, dout) = (200, 130);
    for rows in [300, 1100] {
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
            assert!(d < 1e-4, "rows {rows} bias {bias} gelu {act}: max abs diff {d}");
        }
    }
    }
}

#[test]
fn linears_side_by_side_match_each_linear_on_its_own() {
    use burn::nn::LinearConfig;
    let device = Device::flex();
    let din = 96;
    // With a pool of threads, 2 × 150 rows: rten-gemm on the packed weights side by side;
    // 2 × 550: natively, the `gemm` crate, one GEMM per weight into its columns. On one thread,
    // each on its own. The input is a strided view.
    for seq in [150, 550] {
        let values: Vec<f32> = (0..2 * seq * din).map(|i| ((i * 2_654_435_761) % 2000) as f32 / 500.0 - 2.0).collect();
        let x = Tensor::<1>::from_floats(values.as_slice(), &device).reshape([2, din, seq]).swap_dims(1, 2);
        let mut lins = [
            LinearConfig::new(din, 40).init(&device),
            LinearConfig::new(din, 24).with_bias(false).init(&device),
            LinearConfig::new(din, 40).init(&device),
        ];
        for round in 0..2 {
            let ours = linears([&lins[0], &lins[1], &lins[2]], x.clone());
            for (i, (ours, lin)) in ours.into_iter().zip(&lins).enumerate() {
                let reference = lin.forward(x.clone());
                assert_eq!(ours.dims(), reference.dims());
                let ours = ours.into_data().try_into_vec::<f32>().unwrap();
                let reference = reference.into_data().try_into_vec::<f32>().unwrap();
                let d = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
                assert!(d < 1e-4, "seq {seq} round {round} linear {i}: max abs diff {d}");
            }
            // New weights for the middle one: the side-by-side packing must not be reused.
            lins[1] = burn::nn::Linear { weight: lins[1].weight.clone().map(|w| w.mul_scalar(-2.0)), ..lins[1].clone() };
        }
    }
}

#[test]
fn packed_weights_follow_weight_changes() {
    use burn::nn::LinearConfig;
    let device = Device::flex();
    let x = Tensor::<2>::from_floats([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], &device);
    let check = |lin: &burn::nn::Linear, what: &str| {
        let ours = linear(lin, x.clone(), false).into_data().try_into_vec::<f32>().unwrap();
        let reference = lin.forward(x.clone()).into_data().try_into_vec::<f32>().unwrap();
        let d = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(d < 1e-5, "{what}: max abs diff {d}");
    };
    // Fresh weights of one shape, each dropped before the next: a freed buffer's address may come
    // back, and must not bring back its packing.
    for seed in 0..4 {
        let lin = LinearConfig::new(3, 5).init(&device);
        let lin = burn::nn::Linear { weight: lin.weight.map(|w| w.add_scalar(seed as f32)), ..lin };
        check(&lin, &format!("fresh weights {seed}"));
        check(&lin, &format!("fresh weights {seed}, packed again from the cache"));
        // An update of a uniquely owned weight (Flex writes such tensors in place).
        let lin = burn::nn::Linear { weight: lin.weight.map(|w| w.mul_scalar(-3.0)), ..lin };
        check(&lin, &format!("updated weights {seed}"));
    }
}

#[test]
fn autodiff_keeps_burns_gradient() {
    let device = Device::flex().autodiff();
    let x = Tensor::<2>::from_floats([[-2.0], [-0.5], [0.0], [0.5], [2.0]], &device).require_grad();
    // A 1 → 1 identity layer, so the output is GELU(x).
    let lin = burn::nn::LinearConfig::new(1, 1).with_bias(false).with_initializer(burn::nn::Initializer::Ones).init(&device);
    let grads = linear(&lin, x.clone(), true).sum().backward();
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

/// A pass on a plain Flex device runs on the rayon pool (the other threads spinning); on an
/// autodiff device it runs where it is called.
#[cfg(feature = "parallel")]
#[test]
fn the_pass_moves_to_the_pool_only_on_plain_flex() {
    if rayon::current_num_threads() < 2 {
        eprintln!("SKIP: one rayon thread on this machine, passes run where they are called");
        return;
    }
    assert_eq!(rayon::current_thread_index(), None, "the test thread is outside the pool");
    // Another test's pass may keep the pool awake meanwhile; then this one runs where it is.
    let moved = (0..500).any(|_| {
        let on_pool = with_pool_awake(&Device::flex(), rayon::current_thread_index).is_some();
        if !on_pool {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        on_pool
    });
    assert!(moved, "never ran on the pool");
    assert!(with_pool_awake(&Device::flex().autodiff(), rayon::current_thread_index).is_none());
}
