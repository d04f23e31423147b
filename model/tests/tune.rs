//! Fine-tuning the top N encoder layers with the head (`nuner finetune --unfreeze N`): the
//! training path computes the same features as the frozen protocol, trains only the top layers,
//! and its output loads like any model.

mod common;

use burn::prelude::*;
use burn::tensor::TensorData;
use common::*;
use nuner::data::Example;
use nuner::embed::{block_on, read_f32};
use nuner::heads::{FeatureConfig, Head, HeadConfig, HeadKind, LabelSet, Pooling};
use nuner::pipeline::{features_of, training_rows, units_of};
use nuner::tokenize::words::Segmentation;
use nuner::train::{tune_top_layers, TrainReport, TuneConfig};
use nuner::{ModelFiles, Pretrained, TokenBatch};
use serde_json::Value;
use std::ops::ControlFlow;
use std::process::{Command, Output};

fn examples() -> Vec<Example> {
    PEOPLE_AND_CITIES.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The tiny BERT (4 layers) with dropout off, so a training forward equals an inference one.
fn tiny_without_dropout() -> Pretrained {
    let mut files = ModelFiles::from_dir(&fixture("tiny-bert")).unwrap();
    let mut config: Value = serde_json::from_slice(&files.config).unwrap();
    config["hidden_dropout_prob"] = 0.0.into();
    files.config = serde_json::to_vec(&config).unwrap();
    Pretrained::from_files(files, &cpu()).unwrap()
}

/// The tiny model, the examples, their types and word units.
struct Setup {
    model: Pretrained,
    examples: Vec<Example>,
    labels: LabelSet,
    units: Vec<Vec<(usize, usize)>>,
}

fn setup() -> Setup {
    let examples = examples();
    let labels = LabelSet::new(examples.iter().flat_map(|e| e.spans.iter().map(|s| s.label.clone())));
    let units = units_of(&examples, Segmentation::Unicode);
    Setup { model: tiny_without_dropout(), examples, labels, units }
}

impl Setup {
    /// A fresh linear head over `features`.
    fn head(&self, features: &FeatureConfig) -> Head {
        HeadConfig::new(HeadKind::Linear, features.dim(32), self.labels.num_tags()).init(&cpu())
    }

    /// [`tune_top_layers`] on the examples, to the end.
    fn tune(&self, config: &TuneConfig, features: &FeatureConfig, head: Head) -> nuner::Result<(nuner::Encoder, Head, TrainReport)> {
        let Setup { model, examples, labels, units } = self;
        block_on(tune_top_layers(config, model, examples, units, features, labels, head, &cpu(), &mut |_| ControlFlow::Continue(())))
    }
}

/// Cross-entropy + L2 of `head` on the frozen protocol's features (the reference the training
/// path must reproduce).
fn frozen_loss(model: &Pretrained, examples: &[Example], features: &FeatureConfig, labels: &LabelSet, head: &Head) -> f32 {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let feats = block_on(features_of(model, &texts, Segmentation::Unicode, features, &cpu(), &mut |_, _| {})).unwrap();
    let (rows, _) = training_rows(examples, &feats, labels).unwrap();
    let n = rows.len();
    let x = Tensor::<2>::from_data(TensorData::new(rows.features.clone(), [n, rows.dim]), &cpu());
    let y: Vec<i64> = rows.tags.iter().map(|&t| t as i64).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(y, [n]), &cpu());
    let weights = Tensor::<1>::ones([labels.num_tags()], &cpu());
    let Head::Linear(linear) = head else { unreachable!() };
    let l2 = linear.weight.val().square().sum() * (1.0 / (2.0 * n as f32));
    let loss = nuner::loss::weighted_cross_entropy(head.forward(x), y, weights) + l2;
    block_on(read_f32(loss)).unwrap()[0]
}

/// Hidden states `index` of the encoder for `text`.
fn hidden(encoder: &nuner::Encoder, model: &Pretrained, text: &str, index: usize) -> Vec<f32> {
    let t = model.tokenizer.tokenize(text).unwrap();
    let batch = TokenBatch::right_padded(&[t.ids.clone()], model.config.pad_token_id as u32);
    block_on(read_f32(encoder.forward(batch.to_input(&model.config, &cpu())).hidden_states[index].clone())).unwrap()
}

#[test]
fn the_training_path_reproduces_frozen_features_then_trains_only_the_top() {
    let setup = setup();
    let Setup { model, examples, labels, .. } = &setup;
    for (unfreeze, pooling) in [(1, Pooling::First), (3, Pooling::Mean)] {
        // Layers [4, 2]: with one layer trained, layer 2 comes from the cache; with three, from
        // the trained part.
        let features = FeatureConfig { pooling, ..FeatureConfig::nuner(4) };
        let head = setup.head(&features);
        let reference = frozen_loss(model, examples, &features, labels, &head);
        // Two batches of 4 and 2 texts; the first report is the first batch's loss, before any
        // update, so look at a one-batch run for the exact comparison.
        let config = TuneConfig::new(unfreeze).with_steps(1).with_batch_size(8).with_report_every(1);
        let (_, _, report) = setup.tune(&config, &features, head.clone()).unwrap();
        let first = report.losses[0];
        assert!((first - reference).abs() < 1e-5 * reference.max(1.0), "unfreeze {unfreeze}: training loss {first}, frozen features give {reference}");

        let config = TuneConfig::new(unfreeze).with_steps(120).with_batch_size(4).with_encoder_lr(3e-3).with_head_lr(3e-2).with_report_every(1);
        let (encoder, tuned_head, report) = setup.tune(&config, &features, head).unwrap();
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let (early, late) = (mean(&report.losses[..10]), mean(&report.losses[110..]));
        assert!(late < 0.5 * early, "unfreeze {unfreeze}: loss {early} → {late}");
        // The frozen bottom is bit-identical; the top moved.
        let cut = 4 - unfreeze;
        let text = &examples[0].text;
        assert_eq!(hidden(&encoder, model, text, cut), hidden(&model.encoder, model, text, cut), "frozen layers changed");
        let (a, b) = (hidden(&encoder, model, text, 4), hidden(&model.encoder, model, text, 4));
        assert!(max_abs_diff(&a, &b).0 > 1e-3, "the top layers did not train");
        // The returned pair scores its training set as the training loss says.
        let after = frozen_loss(&Pretrained { encoder, ..model.clone() }, examples, &features, labels, &tuned_head);
        assert!(after < early, "unfreeze {unfreeze}: frozen-path loss of the tuned pair {after} vs {early} at the start");
    }
}

#[test]
fn bad_unfreeze_counts_are_refused() {
    let setup = setup();
    let features = FeatureConfig::nuner(4);
    for n in [0, 5] {
        let err = setup.tune(&TuneConfig::new(n), &features, setup.head(&features)).unwrap_err();
        assert!(err.to_string().contains("1 to 4 layers"), "{err}");
    }
}

fn nuner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nuner")).args(args).output().expect("runs nuner")
}

/// Through the CLI on MiniLM: the fine-tuned encoder is written in Hugging Face layout, the head
/// names it, eval works with the pair and refuses the head on the base model; nothing
/// overwrites the encoder being tuned.
#[test]
fn finetune_unfreeze_writes_a_model_the_head_belongs_to() {
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("train.jsonl");
    std::fs::write(&train, PEOPLE_AND_CITIES).unwrap();
    let (m, tuned, head) = (minilm_dir(), tmp.path().join("tuned"), tmp.path().join("h.json"));
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let base_args = ["finetune", "--model", &s(&m), "--train", &s(&train), "--no-cache", "--out", &s(&head)];

    let out = nuner(&[&base_args[..], &["--unfreeze", "2"]].concat());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--out-model"));
    let out = nuner(&[&base_args[..], &["--unfreeze", "2", "--out-model", &s(&m)]].concat());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("holds a model already"));
    assert!(!head.exists(), "nothing written on refusal");

    let out = nuner(&[&base_args[..], &["--unfreeze", "2", "--out-model", &s(&tuned), "--tune-steps", "30"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert!(tuned.join(f).is_file(), "{f} missing from the fine-tuned model");
    }
    let saved: Value = serde_json::from_slice(&std::fs::read(&head).unwrap()).unwrap();
    assert_eq!(saved["training"]["unfreeze"], 2);
    let base = load(&m, &cpu());
    let model = load(&tuned, &cpu());
    assert_eq!(saved["encoder"]["fingerprint"], model.fingerprint.as_str());
    assert_ne!(model.fingerprint, base.fingerprint);

    let out = nuner(&["eval", "--model", &s(&tuned), "--head", &s(&head), "--test", &s(&train), "--no-cache"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(last["entity_micro_f1"].as_f64().unwrap() > 0.9, "the pair should fit its training set: {last}");
    let out = nuner(&["eval", "--model", &s(&m), "--head", &s(&head), "--test", &s(&train), "--no-cache"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("fingerprint"));
}

/// The browser keeps only the tuned top layers: saved (with asynchronous readback) and put back
/// on the base encoder, they give the tuned encoder's outputs and fingerprint exactly.
#[test]
fn tuned_top_layers_round_trip_onto_the_base_encoder() {
    let setup = setup();
    let Setup { model, examples, .. } = &setup;
    let features = FeatureConfig::nuner(4);
    let config = TuneConfig::new(2).with_steps(20).with_encoder_lr(3e-3);
    let (tuned, _, _) = setup.tune(&config, &features, setup.head(&features)).unwrap();
    let bytes = block_on(nuner::tuned::save_top_layers(&tuned, 2)).unwrap();
    let mut restored = model.encoder.clone();
    assert_eq!(nuner::tuned::load_top_layers(&mut restored, bytes.clone(), "tuned.bpk").unwrap(), 2);
    let text = &examples[3].text;
    assert_eq!(hidden(&restored, model, text, 4), hidden(&tuned, model, text, 4));
    let print = |e: &nuner::Encoder| block_on(nuner::weights::encoder_fingerprint(e)).unwrap();
    assert_eq!(print(&restored), print(&tuned));
    assert_ne!(print(&restored), model.fingerprint);

    // `nuner convert BASE OUT --tuned FILE` makes the encoder the browser's head belongs to.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("tuned.bpk");
    std::fs::write(&file, &bytes).unwrap();
    let out = tmp.path().join("converted");
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let o = nuner(&["convert", &s(&fixture("tiny-bert")), &s(&out), "--tuned", &s(&file)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(load(&out, &cpu()).fingerprint, print(&tuned));

    let err = nuner::tuned::load_top_layers(&mut model.encoder.clone(), bytes[..bytes.len() / 2].to_vec(), "tuned.bpk").unwrap_err();
    assert!(err.to_string().contains("tuned.bpk"), "{err}");
    let all = block_on(nuner::tuned::save_top_layers(&tuned, 4)).unwrap();
    let mut smaller = model.encoder.clone();
    smaller.layers.truncate(3);
    let err = nuner::tuned::load_top_layers(&mut smaller, all, "tuned.bpk").unwrap_err();
    assert!(err.to_string().contains("holds 4 layers"), "{err}");
}
