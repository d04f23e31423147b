//! The `nuner` binary's contracts: `embed` JSON, `convert` round trip, `info`, clean errors.

mod common;

use common::*;
use serde_json::Value;
use std::process::{Command, Output};

fn nuner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nuner")).args(args).output().expect("runs nuner")
}

fn ok_json(args: &[&str]) -> Value {
    let out = nuner(args);
    assert!(out.status.success(), "nuner {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

fn matrix(v: &Value) -> Vec<Vec<f32>> {
    v.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()).collect()
}

#[test]
fn embed_prints_tokens_offsets_and_states() {
    let dir = minilm_dir();
    let text = "Café Müller met 東京 fans 👍🏽.";
    let v = ok_json(&["embed", "--model", dir.to_str().unwrap(), text]);
    let tokens = v["tokens"].as_array().unwrap();
    let offsets = v["offsets"].as_array().unwrap();
    assert_eq!(tokens.first().unwrap(), "[CLS]");
    assert_eq!(tokens.last().unwrap(), "[SEP]");
    assert_eq!(offsets.len(), tokens.len());
    assert!(offsets[0].is_null() && offsets[offsets.len() - 1].is_null());
    let n_chars = text.chars().count() as u64;
    for o in &offsets[1..offsets.len() - 1] {
        let (s, e) = (o[0].as_u64().unwrap(), o[1].as_u64().unwrap());
        assert!(s < e && e <= n_chars, "{o}");
    }
    let last = matrix(&v["last_hidden_state"]);
    assert_eq!(last.len(), tokens.len());
    assert!(last.iter().all(|r| r.len() == 384));
    assert!(v.get("hidden_states").is_none());

    let all = ok_json(&["embed", "--model", dir.to_str().unwrap(), "--layers", "all", text]);
    let states = all["hidden_states"].as_array().unwrap();
    assert_eq!(states.len(), 7);
    assert_eq!(matrix(&states[6]), last, "the last of hidden_states is last_hidden_state");
}

#[test]
fn converted_directory_embeds_like_the_original() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("converted");
    for (f16, tol) in [(false, 0.0f32), (true, 2e-2)] {
        let mut args = vec!["convert".to_string(), fixture("tiny-roberta").to_str().unwrap().to_string(), out.to_str().unwrap().to_string()];
        if f16 {
            args.push("--f16".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = nuner(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for f in ["config.json", "model.bpk", "tokenizer.json"] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let text = "Hello Café world, 東京!";
        let a = ok_json(&["embed", "--model", fixture("tiny-roberta").to_str().unwrap(), text]);
        let b = ok_json(&["embed", "--model", out.to_str().unwrap(), text]);
        assert_eq!(a["tokens"], b["tokens"]);
        assert_eq!(a["offsets"], b["offsets"]);
        let (x, y) = (matrix(&a["last_hidden_state"]).concat(), matrix(&b["last_hidden_state"]).concat());
        let (d, _) = max_abs_diff(&x, &y);
        assert!(d <= tol, "f16={f16}: max diff {d}");
        // One identity for the original, its conversions and the encoder in memory (heads
        // trained in the browser on model.bpk work with the Hugging Face directory natively).
        let (original, converted) = (load(&fixture("tiny-roberta"), &cpu()), load(&out, &cpu()));
        assert_eq!(original.fingerprint, converted.fingerprint, "f16={f16}");
        let in_memory = nuner::embed::block_on(nuner::weights::encoder_fingerprint(&original.encoder)).unwrap();
        assert_eq!(in_memory, original.fingerprint);
    }
}

#[test]
fn info_describes_the_model() {
    let v = ok_json(&["info", "--model", fixture("tiny-roberta").to_str().unwrap()]);
    assert_eq!(v["model_type"], "roberta");
    assert_eq!(v["max_sequence_length"], 32);
    assert_eq!(v["special_prefix"][0], "<s>");
}

#[test]
fn errors_are_one_line_without_panic() {
    let out = nuner(&["embed", "--model", "/nonexistent/dir", "hello"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/dir") && !err.contains("panicked"), "{err}");
    let out = nuner(&["embed", "--device", "quantum", "--model", fixture("tiny-bert").to_str().unwrap(), "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("quantum"));
}
