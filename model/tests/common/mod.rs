//! Shared helpers for the integration tests: fixture locations, the golden-file reader, and
//! the comparison that reports the worst element.
#![allow(dead_code)]

use burn::prelude::*;
use nuner::Pretrained;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The real all-MiniLM-L6-v2 checkpoint, fetched by `scripts/setup.sh`. Its absence is a failure,
/// not a skip: the parity suite is the point of these tests.
pub fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("NUNER_MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".cache/models/all-MiniLM-L6-v2"));
    assert!(
        dir.join("model.safetensors").is_file(),
        "MiniLM weights not found in {}: run scripts/setup.sh (or set NUNER_MINILM_DIR)",
        dir.display()
    );
    dir
}

/// `../shared` beside the checkout, or `None` (callers print a skip message).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NUNER_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("../shared"));
    dir.is_dir().then_some(dir)
}

/// The first `n` sentences of CoNLL-2003's test set (`eng.testb` in `shared`), written into `dir`.
pub fn conll_test_sample(shared: &Path, dir: &Path, n: usize) -> PathBuf {
    let test = std::fs::read_to_string(shared.join("data/conll2003/eng.testb")).unwrap();
    let first: String = test.split("\n\n").take(n).collect::<Vec<_>>().join("\n\n");
    let file = dir.join(format!("test{n}.conll"));
    std::fs::write(&file, first).unwrap();
    file
}

pub fn cpu() -> Device {
    Device::flex()
}

pub fn load(dir: &Path, device: &Device) -> Pretrained {
    Pretrained::from_dir(dir, device).unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

/// PyTorch outputs written by scripts/make_fixtures.py.
pub struct Golden {
    pub meta: Value,
    tensors: Vec<u8>,
}

impl Golden {
    pub fn read(dir: &Path) -> Self {
        let meta = std::fs::read(dir.join("golden.json")).expect("golden.json");
        let tensors = std::fs::read(dir.join("golden.safetensors")).expect("golden.safetensors");
        Self { meta: serde_json::from_slice(&meta).unwrap(), tensors }
    }

    /// A float32 tensor: (shape, values).
    pub fn tensor(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let st = safetensors::SafeTensors::deserialize(&self.tensors).unwrap();
        let t = st.tensor(name).unwrap_or_else(|_| panic!("golden tensor {name}"));
        assert_eq!(t.dtype(), safetensors::Dtype::F32);
        let values = t.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        (t.shape().to_vec(), values)
    }

    pub fn sentences(&self) -> Vec<String> {
        self.meta["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    }

    pub fn ids(&self, key: &str) -> Vec<Vec<u32>> {
        self.meta[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect())
            .collect()
    }
}

/// Largest absolute difference and where it is.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> (f32, usize) {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).enumerate().fold((0.0, 0), |best, (i, d)| {
        if d > best.0 || d.is_nan() {
            (d, i)
        } else {
            best
        }
    })
}

pub fn assert_close(what: &str, ours: &[f32], theirs: &[f32], tol: f32) -> f32 {
    let (d, i) = max_abs_diff(ours, theirs);
    assert!(d <= tol, "{what}: max |diff| {d:e} at {i} (ours {}, torch {}) exceeds {tol:e}", ours[i], theirs[i]);
    d
}

/// Flattened `[layers+1, batch, seq, hidden]` hidden states of a forward pass.
pub fn all_hidden(out: &nuner::EncoderOutput) -> Vec<f32> {
    let stacked = Tensor::stack::<4>(out.hidden_states.clone(), 0);
    nuner::embed::block_on(nuner::embed::read_f32(stacked)).unwrap()
}

/// Sentences written for the tests: people and cities (JSON lines of spans), several of them
/// multi-piece words so that sub-token pooling matters.
pub const PEOPLE_AND_CITIES: &str = r#"{"text": "Maria Lopez moved to Madrid last year.", "spans": [{"start": 0, "end": 11, "label": "person"}, {"start": 21, "end": 27, "label": "city"}]}
{"text": "John Smith lives in Boston.", "spans": [{"start": 0, "end": 10, "label": "person"}, {"start": 20, "end": 26, "label": "city"}]}
{"text": "In Paris, Anna Schmidt opened a bakery.", "spans": [{"start": 3, "end": 8, "label": "city"}, {"start": 10, "end": 22, "label": "person"}]}
{"text": "Kenji Tanaka flew from Tokyo to Berlin.", "spans": [{"start": 0, "end": 12, "label": "person"}, {"start": 23, "end": 28, "label": "city"}, {"start": 32, "end": 38, "label": "city"}]}
{"text": "The weather was mild all week.", "spans": []}
{"text": "Olga Petrova visited Rome and Vienna.", "spans": [{"start": 0, "end": 12, "label": "person"}, {"start": 21, "end": 25, "label": "city"}, {"start": 30, "end": 36, "label": "city"}]}
"#;
