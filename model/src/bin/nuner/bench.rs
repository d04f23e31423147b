//! `nuner bench encoder` — encoder throughput per backend, against this machine's sgemm peak;
//! `nuner bench head` — head training time (the browser bench's 50 sentences x 30 epochs).

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::Distribution;
use nuner::embed::{block_on, read_f32};
use nuner::encoder::kernels;
use nuner::{Pretrained, TokenBatch};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

use crate::progress::bar;

/// Measure the encoder forward (tokens/s) and the best sgemm rate on each device.
///
/// Example: nuner bench --model public/model --devices flex,wgpu
#[derive(clap::Args)]
pub struct Args {
    /// What to measure.
    #[arg(value_parser = ["encoder", "head"], default_value = "encoder")]
    what: String,
    /// Model directory (for `encoder`).
    #[arg(long, required_if_eq("what", "encoder"))]
    model: Option<PathBuf>,
    /// Comma-separated devices (default: the global --device).
    #[arg(long)]
    devices: Option<String>,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Tokens per sequence.
    #[arg(long, default_value_t = 128)]
    seq: usize,
    /// Timed iterations (after warm-up).
    #[arg(long, default_value_t = 10)]
    iters: usize,
    /// Warm-up iterations.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Concurrent forward passes, each on `batch / streams` sequences (data parallel across
    /// cores; how `embed`, `eval` and `predict` run). Default: 1 and the number of cores.
    #[arg(long, value_delimiter = ',')]
    streams: Option<Vec<usize>>,
    /// Precisions of the encoder's linear layers to measure in turn, on flex: f32, int8 (default:
    /// the global --int8 setting alone).
    #[arg(long, value_delimiter = ',', value_parser = ["f32", "int8"])]
    precisions: Option<Vec<String>>,
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let names = args.devices.clone().unwrap_or_else(|| device.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let streams = args.streams.clone().unwrap_or_else(|| if cores > 1 { vec![1, cores] } else { vec![1] });
    for name in names.split(',').map(str::trim) {
        let device = nuner::device::select_device(name)?;
        if args.what == "head" {
            let (secs, epochs) = head_training_s(&device)?;
            println!("{}", json!({"backend": name, "head_train_50x30_s": secs, "ms_per_epoch": 1e3 * secs / epochs as f64}));
            continue;
        }
        let model = Pretrained::from_dir(args.model.as_ref().expect("clap requires --model"), &device)?;
        let peak = sgemm_peak(&device)?;
        let flops = encoder_flops(&model, args.batch, args.seq);
        let global = if kernels::int8() { "int8" } else { "f32" };
        for precision in args.precisions.clone().unwrap_or_else(|| vec![global.to_string()]) {
            kernels::set_int8(precision == "int8");
            let sentence_ms = sentence_ms(&model, &device)?;
            for &s in &streams {
                let tps = encoder_tokens_per_s(&model, &device, &args, s)?;
                let achieved = flops * tps / (args.batch * args.seq) as f64 / 1e9;
                println!(
                    "{}",
                    json!({
                        "backend": name, "precision": precision, "streams": s, "batch": args.batch, "seq": args.seq,
                        "tokens_per_s": tps.round(), "ms_per_batch": 1e3 * (args.batch * args.seq) as f64 / tps,
                        "encoder_gflops": achieved, "sgemm_peak_gflops": peak, "share_of_peak": achieved / peak,
                        "sentence_ms": sentence_ms,
                    })
                );
            }
        }
        kernels::set_int8(global == "int8");
    }
    Ok(())
}

fn encoder_tokens_per_s(model: &Pretrained, device: &Device, args: &Args, streams: usize) -> Result<f64> {
    // Fixed pseudo-random ids (an LCG), wrapped in the tokenizer's special tokens.
    let mut state = 42u64;
    let vocab = model.config.vocab_size as u64;
    let rows: Vec<Vec<u32>> = (0..args.batch)
        .map(|_| {
            let mut row: Vec<u32> = model.tokenizer.prefix().iter().map(|p| p.0).collect();
            while row.len() + model.tokenizer.suffix().len() < args.seq {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                row.push(((state >> 33) % (vocab - 1000) + 1000) as u32);
            }
            row.extend(model.tokenizer.suffix().iter().map(|s| s.0));
            row
        })
        .collect();
    let per_stream = args.batch.div_ceil(streams.max(1));
    let batches: Vec<TokenBatch> =
        rows.chunks(per_stream).map(|r| TokenBatch::right_padded(r, model.config.pad_token_id as u32)).collect();
    let pb = bar((args.warmup + args.iters) as u64, format!("encoder {}x{}, {streams} stream(s)", args.batch, args.seq));
    let forward = |b: &TokenBatch| -> Result<()> {
        let out = model.encoder.forward(b.to_input(&model.config, device));
        block_on(read_f32(out.last_hidden_state()))?;
        Ok(())
    };
    let run = || -> Result<()> {
        std::thread::scope(|s| -> Result<()> {
            let handles: Vec<_> = batches.iter().map(|b| s.spawn(move || forward(b))).collect();
            for h in handles {
                h.join().expect("a bench thread panicked")?;
            }
            Ok(())
        })?;
        pb.inc(1);
        Ok(())
    };
    for _ in 0..args.warmup {
        run()?;
    }
    let start = Instant::now();
    for _ in 0..args.iters {
        run()?;
    }
    let secs = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    Ok((args.iters * args.batch * args.seq) as f64 / secs)
}

/// Seconds to train a linear head as the browser bench does (app/src/worker/tasks.rs): 50
/// sentences of 15 words with 768-wide features, 9 tags, 30 epochs; after one warm-up run.
fn head_training_s(device: &Device) -> Result<(f64, usize)> {
    use nuner::train::{train_head, HeadTrainingConfig, TrainSet};
    let epochs = 30;
    let set = TrainSet::synthetic(50 * 15, 768, 9);
    let config = HeadTrainingConfig::new().with_epochs(Some(epochs)).with_report_every(epochs);
    let once = || block_on(train_head(&config, &set, 9, device, &mut |_| std::ops::ControlFlow::Continue(())));
    once()?;
    let start = Instant::now();
    once()?;
    Ok((start.elapsed().as_secs_f64(), epochs))
}

/// Warm latency of one sentence's word features (tokenize, encode, pool), as the browser
/// bench measures it: the same 18-token sentence, the NuNER feature layers.
fn sentence_ms(model: &Pretrained, device: &Device) -> Result<f64> {
    use nuner::heads::FeatureConfig;
    use nuner::tokenize::words::Segmentation;
    let sentence = nuner::pipeline::LATENCY_SENTENCE;
    let config = FeatureConfig::nuner(model.config.num_hidden_layers);
    let once = || block_on(nuner::pipeline::features_of(model, &[sentence], Segmentation::Unicode, &config, device, &mut |_, _| {}));
    for _ in 0..5 {
        once()?;
    }
    let reps = 50;
    let start = Instant::now();
    for _ in 0..reps {
        once()?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e3 / reps as f64)
}

/// Multiply-adds ×2 of one forward: projections, feed-forward and the two attention products.
fn encoder_flops(model: &Pretrained, batch: usize, seq: usize) -> f64 {
    let c = &model.config;
    let (b, t, h, i) = (batch as f64, seq as f64, c.hidden_size as f64, c.intermediate_size as f64);
    let per_layer = 2.0 * b * t * (4.0 * h * h + 2.0 * h * i) + 4.0 * b * t * t * h;
    per_layer * c.num_hidden_layers as f64
}

/// Best GFLOP/s of f32 matmuls on `device` over the encoder's largest GEMM and a square one.
fn sgemm_peak(device: &Device) -> Result<f64> {
    let mut best: f64 = 0.0;
    for (m, k, n) in [(4096usize, 384usize, 1536usize), (2048, 2048, 2048)] {
        let a = Tensor::<2>::random([m, k], Distribution::Default, device);
        let b = Tensor::<2>::random([k, n], Distribution::Default, device);
        block_on(read_f32(a.clone().matmul(b.clone()).slice([0..1, 0..1])))?;
        let reps = 5;
        let start = Instant::now();
        for _ in 0..reps {
            block_on(read_f32(a.clone().matmul(b.clone()).slice([0..1, 0..1])))?;
        }
        let secs = start.elapsed().as_secs_f64() / reps as f64;
        best = best.max(2.0 * (m * k * n) as f64 / secs / 1e9);
    }
    Ok(best)
}
