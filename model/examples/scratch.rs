use burn::prelude::*;
use burn::tensor::Distribution;
use std::time::Instant;
fn main() {
    let device = Device::flex();
    for (m, k, n) in [(4096usize, 384usize, 1536usize), (4096, 1536, 384), (4096, 384, 384), (2048, 2048, 2048)] {
        let a = Tensor::<2>::random([m, k], Distribution::Default, &device);
        let b = Tensor::<2>::random([k, n], Distribution::Default, &device);
        let _ = a.clone().matmul(b.clone()).into_data();
        let start = Instant::now();
        for _ in 0..5 { let c = a.clone().matmul(b.clone()); let _ = c.slice([0..1, 0..1]).into_data(); }
        let secs = start.elapsed().as_secs_f64() / 5.0;
        println!("{m}x{k}x{n}: {:.2} ms, {:.1} GFLOP/s", secs * 1e3, 2.0 * (m * k * n) as f64 / secs / 1e9);
    }
    // batched 3D matmul like linear on [32,128,384]
    let x = Tensor::<3>::random([32, 128, 384], Distribution::Default, &device);
    let w = Tensor::<2>::random([384, 1536], Distribution::Default, &device);
    let start = Instant::now();
    for _ in 0..5 { let _ = burn::tensor::module::linear(x.clone(), w.clone(), None).slice([0..1,0..1,0..1]).into_data(); }
    let secs = start.elapsed().as_secs_f64() / 5.0;
    println!("linear 32x128x384 -> 1536: {:.2} ms {:.1} GFLOP/s", secs*1e3, 2.0*(4096.0*384.0*1536.0)/secs/1e9);
    let start = Instant::now();
    for _ in 0..5 { let _ = burn::tensor::activation::gelu(Tensor::<3>::random([32, 128, 1536], Distribution::Default, &device)).slice([0..1,0..1,0..1]).into_data(); }
    println!("gelu+random 32x128x1536: {:.2} ms", start.elapsed().as_secs_f64()/5.0*1e3);
}
