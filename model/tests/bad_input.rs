//! Bad model directories give one clear error naming the file and the field or tensor — never
//! a panic.

mod common;

use common::*;
use nuner::Pretrained;
use std::path::{Path, PathBuf};

/// A scratch copy of the tiny BERT fixture, to break.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(fixture("tiny-bert").join(f), dir.join(f)).unwrap();
    }
    (tmp, dir)
}

fn load_err(dir: &Path) -> String {
    match std::panic::catch_unwind(|| Pretrained::from_dir(dir, &cpu())) {
        Ok(Ok(_)) => panic!("{} loaded although it is broken", dir.display()),
        Ok(Err(e)) => e.to_string(),
        Err(_) => panic!("loading {} panicked", dir.display()),
    }
}

fn edit_config(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("config.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, serde_json::to_vec(&v).unwrap()).unwrap();
}

/// Rewrites model.safetensors through `f` over (name, shape, f32 values).
fn edit_weights(dir: &Path, f: impl FnOnce(&mut Vec<(String, Vec<usize>, Vec<f32>)>)) {
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = st
        .tensors()
        .into_iter()
        .filter(|(_, t)| t.dtype() == safetensors::Dtype::F32)
        .map(|(name, t)| {
            let v = t.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
            (name, t.shape().to_vec(), v)
        })
        .collect();
    f(&mut tensors);
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = raw
        .iter()
        .map(|(n, s, b)| (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn assert_names(err: &str, parts: &[&str]) {
    for p in parts {
        assert!(err.contains(p), "error {err:?} should mention {p:?}");
    }
}

#[test]
fn the_scratch_copy_itself_loads() {
    let (_tmp, dir) = scratch();
    Pretrained::from_dir(&dir, &cpu()).unwrap();
}

#[test]
fn missing_config() {
    let (_tmp, dir) = scratch();
    std::fs::remove_file(dir.join("config.json")).unwrap();
    assert_names(&load_err(&dir), &["config.json", "model"]);
}

#[test]
fn corrupt_config() {
    let (_tmp, dir) = scratch();
    std::fs::write(dir.join("config.json"), b"{\"model_type\": \"bert\", \"hidden_size\": 3").unwrap();
    assert_names(&load_err(&dir), &["config.json"]);
}

#[test]
fn config_field_of_the_wrong_type() {
    let (_tmp, dir) = scratch();
    edit_config(&dir, |v| v["num_hidden_layers"] = "four".into());
    assert_names(&load_err(&dir), &["config.json", "num_hidden_layers"]);
}

#[test]
fn unsupported_model_type() {
    let (_tmp, dir) = scratch();
    edit_config(&dir, |v| v["model_type"] = "gpt2".into());
    assert_names(&load_err(&dir), &["config.json", "model_type", "gpt2"]);
}

#[test]
fn truncated_safetensors() {
    let (_tmp, dir) = scratch();
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_names(&load_err(&dir), &["model.safetensors"]);
}

#[test]
fn garbage_safetensors() {
    let (_tmp, dir) = scratch();
    std::fs::write(dir.join("model.safetensors"), b"not a safetensors file").unwrap();
    assert_names(&load_err(&dir), &["model.safetensors"]);
}

#[test]
fn missing_tensor_is_named() {
    let (_tmp, dir) = scratch();
    edit_weights(&dir, |t| t.retain(|(n, _, _)| n != "encoder.layer.2.intermediate.dense.weight"));
    assert_names(&load_err(&dir), &["model.safetensors", "missing", "encoder.layer.2.intermediate.dense.weight"]);
}

#[test]
fn unexpected_tensor_is_named() {
    let (_tmp, dir) = scratch();
    edit_weights(&dir, |t| t.push(("encoder.layer.0.attention.self.rotary.weight".into(), vec![2], vec![0.0, 1.0])));
    assert_names(&load_err(&dir), &["unexpected", "encoder.layer.0.attention.self.rotary.weight"]);
}

#[test]
fn misshaped_tensor_is_named() {
    let (_tmp, dir) = scratch();
    edit_weights(&dir, |t| {
        let entry = t.iter_mut().find(|(n, _, _)| n == "encoder.layer.1.output.dense.bias").unwrap();
        entry.1 = vec![entry.1[0] - 1];
        entry.2.pop();
    });
    assert_names(&load_err(&dir), &["model.safetensors", "encoder.layer.1.output.dense.bias", "shape"]);
}

#[test]
fn config_that_disagrees_with_the_weights() {
    let (_tmp, dir) = scratch();
    edit_config(&dir, |v| v["intermediate_size"] = 65.into());
    assert_names(&load_err(&dir), &["model.safetensors", "intermediate.dense.weight", "shape"]);
}

#[test]
fn tokenizer_larger_than_the_embeddings() {
    let (_tmp, dir) = scratch();
    std::fs::copy(minilm_dir().join("tokenizer.json"), dir.join("tokenizer.json")).unwrap();
    assert_names(&load_err(&dir), &["tokenizer.json", "vocab_size"]);
}

#[test]
fn corrupt_tokenizer() {
    let (_tmp, dir) = scratch();
    std::fs::write(dir.join("tokenizer.json"), b"{\"model\": 1}").unwrap();
    assert_names(&load_err(&dir), &["tokenizer.json"]);
}

#[test]
fn no_weights_at_all() {
    let (_tmp, dir) = scratch();
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    assert_names(&load_err(&dir), &["weights", "model.safetensors", "pytorch_model.bin"]);
}

#[test]
fn not_a_directory() {
    assert_names(&load_err(Path::new("/nonexistent/model")), &["/nonexistent/model"]);
}
