//! The few-shot path end to end through the CLI: finetune → eval → predict, saved-head checks.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn nuner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nuner")).args(args).output().expect("runs nuner")
}

fn ok(args: &[&str]) -> String {
    let out = nuner(args);
    assert!(out.status.success(), "nuner {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn train_head(dir: &Path) -> std::path::PathBuf {
    let train = dir.join("train.jsonl");
    std::fs::write(&train, PEOPLE_AND_CITIES).unwrap();
    let head = dir.join("people.head.json");
    let m = minilm_dir();
    ok(&["finetune", "--model", m.to_str().unwrap(), "--train", train.to_str().unwrap(), "--no-cache", "--out", head.to_str().unwrap()]);
    head
}

#[test]
fn finetune_predict_and_eval_on_raw_text() {
    let tmp = tempfile::tempdir().unwrap();
    let head = train_head(tmp.path());
    let saved: Value = serde_json::from_slice(&std::fs::read(&head).unwrap()).unwrap();
    assert_eq!(saved["format"], "nuner-head");
    assert_eq!(saved["labels"], serde_json::json!(["city", "person"]));

    let input = tmp.path().join("texts.txt");
    let texts = ["Carlos Mendes arrived in Lisbon 🚆 yesterday.", "", "Nothing to see here."];
    std::fs::write(&input, texts.join("\n")).unwrap();
    let m = minilm_dir();
    let out = ok(&["predict", "--model", m.to_str().unwrap(), "--head", head.to_str().unwrap(), input.to_str().unwrap()]);
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one output line per input line");
    for (line, text) in lines.iter().zip(texts) {
        assert_eq!(line["text"], text);
        for s in line["spans"].as_array().unwrap() {
            let (a, b) = (s["start"].as_u64().unwrap() as usize, s["end"].as_u64().unwrap() as usize);
            let slice: String = text.chars().skip(a).take(b - a).collect();
            assert!(!slice.trim().is_empty() && slice.trim() == slice, "span {s} slices {slice:?}");
            let score = s["score"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&score));
        }
    }
    let found: Vec<(String, String)> = lines[0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let (a, b) = (s["start"].as_u64().unwrap() as usize, s["end"].as_u64().unwrap() as usize);
            (texts[0].chars().skip(a).take(b - a).collect(), s["label"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(found.contains(&("Lisbon".into(), "city".into())), "{found:?}");
    assert!(found.iter().any(|(t, l)| t.contains("Carlos") && l == "person"), "{found:?}");

    // eval on the training file itself: the last line is the JSON contract.
    let train = tmp.path().join("train.jsonl");
    let report = ok(&["eval", "--model", m.to_str().unwrap(), "--head", head.to_str().unwrap(), "--test", train.to_str().unwrap(), "--no-cache"]);
    let last: Value = serde_json::from_str(report.lines().last().unwrap()).unwrap();
    for key in ["entity_micro_f1", "entity_macro_f1", "token_macro_f1", "per_type"] {
        assert!(last.get(key).is_some(), "eval JSON lacks {key}");
    }
    assert!(last["entity_micro_f1"].as_f64().unwrap() > 0.9, "the head should fit its training set: {last}");
}

#[test]
fn a_head_refuses_another_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let head = train_head(tmp.path());
    let out = nuner(&["predict", "--model", fixture("tiny-bert").to_str().unwrap(), "--head", head.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("people.head.json") && err.contains("fingerprint"), "{err}");
}

#[test]
fn bad_training_files_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("bad.conll");
    std::fs::write(&train, "EU B-ORG\nrejects O\nGerman B_MISC\n").unwrap();
    let m = minilm_dir();
    let out = nuner(&["finetune", "--model", m.to_str().unwrap(), "--train", train.to_str().unwrap(), "--out", tmp.path().join("h.json").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.conll:3"), "{err}");
    assert!(!tmp.path().join("h.json").exists(), "nothing written on failure");
}

/// The paper's protocol on real data: a k=4 CoNLL sample beats a floor on 300 test sentences.
#[test]
fn conll_k4_linear_probe_learns() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIP conll_k4_linear_probe_learns: ../shared/data not found");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let test_file = conll_test_sample(&shared, tmp.path(), 300);
    let head = tmp.path().join("conll.head.json");
    let m = minilm_dir();
    let train = shared.join("data/conll2003/eng.train");
    ok(&["finetune", "--model", m.to_str().unwrap(), "--train", train.to_str().unwrap(), "--k", "4", "--seed", "1", "--out", head.to_str().unwrap()]);
    let report = ok(&["eval", "--model", m.to_str().unwrap(), "--head", head.to_str().unwrap(), "--test", test_file.to_str().unwrap(), "--no-cache"]);
    let last: Value = serde_json::from_str(report.lines().last().unwrap()).unwrap();
    let f1 = last["entity_micro_f1"].as_f64().unwrap();
    eprintln!("CoNLL k=4 seed 1, 300 test sentences: entity micro F1 {f1:.3}");
    assert!(f1 > 0.15, "entity F1 {f1}");
}
