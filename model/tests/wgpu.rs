//! The encoder on burn-wgpu (Vulkan through Mesa's lavapipe in CI) against PyTorch: every
//! hidden state within 1e-3. Built with `--features wgpu`.
#![cfg(feature = "wgpu")]

mod common;

use common::*;
use nuner::{Pretrained, TokenBatch};

const TOL: f32 = 1e-3;

fn gpu() -> burn::prelude::Device {
    nuner::device::select_device("wgpu").unwrap_or_else(|e| {
        panic!("{e}\nInstall a Vulkan driver (CI: apt-get install mesa-vulkan-drivers) to run these tests")
    })
}

fn check(model: &Pretrained, golden: &Golden) -> f32 {
    let device = gpu();
    let ids = golden.ids("input_ids");
    let batch = TokenBatch {
        input_ids: ids.concat(),
        attention_mask: golden.ids("attention_mask").concat(),
        batch: ids.len(),
        seq: ids[0].len(),
    };
    let out = model.encoder.forward(batch.to_input(&model.config, &device));
    assert_close(&format!("{} on wgpu", model.name), &all_hidden(&out), &golden.tensor("hidden_states").1, TOL)
}

#[test]
fn tiny_models_match_pytorch_on_wgpu() {
    for name in ["tiny-bert", "tiny-roberta"] {
        let model = load(&fixture(name), &gpu());
        let d = check(&model, &Golden::read(&fixture(name)));
        eprintln!("{name} on wgpu: max |diff| {d:e}");
    }
}

#[test]
fn minilm_matches_pytorch_on_wgpu() {
    let model = load(&minilm_dir(), &gpu());
    let d = check(&model, &Golden::read(&fixture("minilm")));
    eprintln!("MiniLM on wgpu: max |diff| {d:e}");
}
