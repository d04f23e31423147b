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

#[test]
fn int8_linear_is_close_to_f32_and_exact_on_zero_rows() {
    use burn::backend::Flex;
    use burn::nn::LinearConfig;
    let device = Device::flex();
    let prim = |t: Tensor<2>| t.try_into_primitive::<Flex>().expect("plain Flex");
    // A sentence-sized and a batch-sized input, MiniLM's widths, a strided (transposed) view; row 0
    // is all zeros (as a padded position's input never is, but a zero row must give the bias).
    for (rows, din, dout) in [(18, 384, 1536), (300, 384, 384)] {
        let mut values: Vec<f32> = (0..rows * din).map(|i| ((i * 2_654_435_761) % 2000) as f32 / 500.0 - 2.0).collect();
        for r in 0..rows {
            for c in 0..din {
                if c == 0 || r == 0 {
                    values[c * rows + r] = 0.0;
                }
            }
        }
        let x = Tensor::<1>::from_floats(values.as_slice(), &device).reshape([din, rows]).transpose();
        let lin = LinearConfig::new(din, dout).init(&device);
        let bias = lin.bias.as_ref().unwrap().val().into_data().try_into_vec::<f32>().unwrap();
        let reference = lin.forward(x.clone()).into_data().try_into_vec::<f32>().unwrap();
        // rten-gemm's kernel (native and the one-thread browser build) and ours on the wasm dot
        // product (the multi-threaded build; here on its portable model).
        for (kernel, ours) in [
            ("int8", int8::linear(&prim(x.clone()), &[prim(lin.weight.val())], Some(&bias))),
            ("dot8", dot8::linear(&prim(x.clone()), &[prim(lin.weight.val())], Some(&bias))),
        ] {
            assert_eq!(ours.len(), reference.len());
            let (mut err, mut norm) = (0.0f64, 0.0f64);
            for (a, b) in ours.iter().zip(&reference) {
                err += ((a - b) as f64).powi(2);
                norm += (*b as f64).powi(2);
            }
            let relative = (err / norm).sqrt();
            assert!(relative < 0.02, "{kernel}: {rows}×{din}→{dout}: relative error {relative}");
            assert!(relative > 1e-6, "{kernel}: {rows}×{din}→{dout}: the 8-bit path gave f32's result exactly");
            for c in 0..dout {
                assert_eq!(ours[c], bias[c], "{kernel}: zero row, column {c}");
            }
        }
    }
}

#[test]
fn quantisation_round_trips_within_half_a_step() {
    let (k, n) = (5, 3);
    let values: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.37).sin() * (1 + i % 3) as f32).collect();
    for qmax in [63.0, 127.0] {
        let (q, scales) = int8::quantize_columns(&values, [k, n], qmax);
        for r in 0..k {
            for c in 0..n {
                let v = values[r * n + c];
                assert!((q[r * n + c] as f32).abs() <= qmax);
                assert!((q[r * n + c] as f32 * scales[c] - v).abs() <= scales[c] / 2.0 + 1e-6, "column {c} row {r}");
            }
        }
    }
    let x = [-1.0f32, 0.0, 3.0, 0.5, 0.25, 0.0];
    let (q, scales, zeros) = int8::quantize_rows(&x, [2, 3]);
    for r in 0..2 {
        for c in 0..3 {
            let back = (q[r * 3 + c] as f32 - zeros[r] as f32) * scales[r];
            assert!((back - x[r * 3 + c]).abs() <= scales[r] / 2.0 + 1e-6, "row {r} column {c}");
        }
        // Zero is exact.
        assert_eq!(q[r * 3 + if r == 0 { 1 } else { 2 }], zeros[r]);
    }
}
