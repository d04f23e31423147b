//! The 8-bit encoder path (`--int8`, `nuner::encoder::kernels::set_int8`) against f32 on the
//! real MiniLM: hidden states close, and few-shot CoNLL F1 as good within a small margin.
//! One test per concern, each in this file's own process: the switch is process-wide.

mod common;

use common::*;
use nuner::embed::{block_on, embed_texts, EmbedOptions};
use nuner::encoder::kernels::set_int8;
use serde_json::Value;
use std::process::Command;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// Every token's last hidden state keeps its direction (batched texts of different lengths, so
/// padded rows go through the 8-bit GEMM too).
#[test]
fn int8_hidden_states_stay_close_to_f32() {
    let model = load(&minilm_dir(), &cpu());
    let texts = [
        "Barack Obama met Angela Merkel in Berlin on Tuesday to discuss the Paris agreement.",
        "EU rejects German call to boycott British lamb.",
        "Ana Souza moved from Porto to Helsinki to work for Baltic Freight, a shipping firm founded in 1987.",
        "Hi.",
    ];
    let options = EmbedOptions::last(&model);
    set_int8(false);
    let f32s = block_on(embed_texts(&model, &texts, &options, &cpu())).unwrap();
    set_int8(true);
    let int8s = block_on(embed_texts(&model, &texts, &options, &cpu())).unwrap();
    set_int8(false);
    let (mut worst, mut sum, mut n, mut max_diff) = (1.0f32, 0.0f32, 0, 0.0f32);
    for (a, b) in f32s.iter().zip(&int8s) {
        assert_eq!(a.ids, b.ids);
        for t in 0..a.ids.len() {
            let c = cosine(a.vector(0, t), b.vector(0, t));
            worst = worst.min(c);
            sum += c;
            n += 1;
            max_diff = a.vector(0, t).iter().zip(b.vector(0, t)).map(|(x, y)| (x - y).abs()).fold(max_diff, f32::max);
        }
    }
    eprintln!("int8 vs f32, {n} tokens: cosine worst {worst:.5}, mean {:.5}; max abs diff {max_diff:.4}", sum / n as f32);
    assert!(worst > 0.98 && sum / n as f32 > 0.995, "cosine worst {worst}, mean {}", sum / n as f32);
    assert!(max_diff > 0.0, "the 8-bit path must not be the f32 one");
}

/// The paper's protocol on real data with 8-bit features, for training and test alike: a k=4
/// CoNLL head scores within 0.03 entity F1 of the f32 run on the same 300 test sentences.
#[test]
fn int8_few_shot_f1_stays_within_a_margin_of_f32() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIP int8_few_shot_f1_stays_within_a_margin_of_f32: ../shared/data not found");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let test_file = conll_test_sample(&shared, tmp.path(), 300);
    let m = minilm_dir();
    let train = shared.join("data/conll2003/eng.train");
    let run = |int8: bool| -> f64 {
        let head = tmp.path().join(format!("head-{int8}.json"));
        let global: &[&str] = if int8 { &["--int8"] } else { &[] };
        let nuner = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_nuner")).args(global).args(args).output().expect("runs nuner");
            assert!(out.status.success(), "nuner {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        nuner(&["finetune", "--model", m.to_str().unwrap(), "--train", train.to_str().unwrap(), "--k", "4", "--seed", "1", "--no-cache", "--out", head.to_str().unwrap()]);
        let report = nuner(&["eval", "--model", m.to_str().unwrap(), "--head", head.to_str().unwrap(), "--test", test_file.to_str().unwrap(), "--no-cache"]);
        let last: Value = serde_json::from_str(report.lines().last().unwrap()).unwrap();
        last["entity_micro_f1"].as_f64().unwrap()
    };
    let (f32_f1, int8_f1) = (run(false), run(true));
    eprintln!("CoNLL k=4 seed 1, 300 test sentences: entity micro F1 {f32_f1:.3} (f32), {int8_f1:.3} (int8)");
    assert!(int8_f1 > f32_f1 - 0.03, "int8 F1 {int8_f1} against f32 {f32_f1}");

    // Each head records the precision of the features it was trained on, and using it in the
    // other precision warns (and still works).
    for int8 in [false, true] {
        let saved: Value = serde_json::from_slice(&std::fs::read(tmp.path().join(format!("head-{int8}.json"))).unwrap()).unwrap();
        assert_eq!(saved["encoder"]["int8"], Value::Bool(int8), "head-{int8}.json");
    }
    let (head, text) = (tmp.path().join("head-true.json"), tmp.path().join("text.txt"));
    std::fs::write(&text, "EU rejects German call to boycott British lamb.\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nuner"))
        .args(["predict", "--model", m.to_str().unwrap(), "--head", head.to_str().unwrap(), text.to_str().unwrap()])
        .output()
        .expect("runs nuner");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("trained on 8-bit features and the encoder now runs in f32"), "no precision warning in: {stderr}");
}
