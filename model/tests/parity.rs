//! The encoder against PyTorch: every hidden state of the golden batches (made by
//! scripts/make_fixtures.py with transformers) within 1e-4 max-abs on the CPU backend.

mod common;

use common::*;
use nuner::embed::{block_on, embed_texts, EmbedOptions};
use nuner::{ModelFiles, Pretrained, TokenBatch, Weights};


const TOL: f32 = 1e-4;

/// Runs the golden padded batch and compares all hidden states; returns the worst difference.
fn check_batch(model: &Pretrained, golden: &Golden, ids_key: &str, mask_key: &str, states_key: &str) -> f32 {
    let device = cpu();
    let input_ids = golden.ids(ids_key);
    let mask = golden.ids(mask_key);
    let batch = TokenBatch {
        input_ids: input_ids.concat(),
        attention_mask: mask.concat(),
        batch: input_ids.len(),
        seq: input_ids[0].len(),
    };
    let out = model.encoder.forward(batch.to_input(&model.config, &device));
    let (shape, theirs) = golden.tensor(states_key);
    assert_eq!(shape, vec![model.config.num_hidden_layers + 1, batch.batch, batch.seq, model.config.hidden_size]);
    assert_close(&format!("{} {states_key}", model.name), &all_hidden(&out), &theirs, TOL)
}

/// Tokenisation equals the fast tokenizer's, and each sentence alone equals PyTorch alone.
fn check_sentences(model: &Pretrained, golden: &Golden) {
    let sentences = golden.sentences();
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let embedded = block_on(embed_texts(model, &texts, &EmbedOptions::last(model), &cpu())).unwrap();
    let golden_ids = golden.ids("input_ids");
    let masks = golden.ids("attention_mask");
    for (i, e) in embedded.iter().enumerate() {
        let len = masks[i].iter().sum::<u32>() as usize;
        assert_eq!(e.ids, golden_ids[i][..len], "ids of {:?}", sentences[i]);
        let offsets: Vec<Option<(usize, usize)>> = golden.meta["offsets"][i]
            .as_array()
            .unwrap()
            .iter()
            .take(len)
            .map(|o| o.as_array().map(|p| (p[0].as_u64().unwrap() as usize, p[1].as_u64().unwrap() as usize)))
            .collect();
        assert_eq!(e.offsets, offsets, "offsets of {:?}", sentences[i]);
        let (shape, single) = golden.tensor(&format!("last_hidden_state_{i}"));
        assert_eq!(shape, vec![len, model.config.hidden_size]);
        assert_close(&format!("{} sentence {i} alone", model.name), &e.states[0], &single, TOL);
    }
}

fn fixture_model(name: &str) -> (Pretrained, Golden) {
    let dir = fixture(name);
    (load(&dir, &cpu()), Golden::read(&dir))
}

#[test]
fn tiny_bert_matches_pytorch() {
    let (model, golden) = fixture_model("tiny-bert");
    let d = check_batch(&model, &golden, "input_ids", "attention_mask", "hidden_states");
    check_sentences(&model, &golden);
    eprintln!("tiny-bert: max |diff| {d:e}");
}

#[test]
fn tiny_roberta_matches_pytorch_with_right_and_left_padding() {
    let (model, golden) = fixture_model("tiny-roberta");
    check_batch(&model, &golden, "input_ids", "attention_mask", "hidden_states");
    check_batch(&model, &golden, "input_ids_left", "attention_mask_left", "hidden_states_left");
    check_sentences(&model, &golden);
}

#[test]
fn pytorch_bin_loads_the_same_weights_as_safetensors() {
    for name in ["tiny-bert", "tiny-roberta"] {
        let dir = fixture(name);
        let files = |weights| ModelFiles {
            config: std::fs::read(dir.join("config.json")).unwrap(),
            tokenizer: std::fs::read(dir.join("tokenizer.json")).unwrap(),
            weights,
            name: name.into(),
        };
        let from_bin = Pretrained::from_files(files(Weights::PytorchFile(dir.join("pytorch_model.bin"))), &cpu()).unwrap();
        let golden = Golden::read(&dir);
        check_batch(&from_bin, &golden, "input_ids", "attention_mask", "hidden_states");
    }
}

#[test]
fn minilm_real_weights_match_pytorch() {
    let model = load(&minilm_dir(), &cpu());
    let golden = Golden::read(&fixture("minilm"));
    assert_eq!(
        golden.meta["model_sha256"].as_str().unwrap(),
        sha256_hex(&std::fs::read(minilm_dir().join("model.safetensors")).unwrap()),
        "the golden file was made from other weights"
    );
    let d = check_batch(&model, &golden, "input_ids", "attention_mask", "hidden_states");
    check_sentences(&model, &golden);
    eprintln!("MiniLM: every hidden state within {d:e} of PyTorch");
}

/// Our golden files agree with the independently made reference in ../shared.
#[test]
fn minilm_matches_the_shared_reference() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIP minilm_matches_the_shared_reference: ../shared not found");
        return;
    };
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared.join("reference/minilm-golden.json")).unwrap()).unwrap();
    let model = load(&minilm_dir(), &cpu());
    let sentences: Vec<&str> = reference["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let embedded = block_on(embed_texts(&model, &sentences, &EmbedOptions::last(&model), &cpu())).unwrap();
    for (i, e) in embedded.iter().enumerate() {
        let ids: Vec<u32> = reference["input_ids"][i].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(e.ids, ids[..e.ids.len()]);
        let theirs: Vec<f32> = reference["last_hidden_state"][i]
            .as_array()
            .unwrap()
            .iter()
            .take(e.ids.len())
            .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32))
            .collect();
        // The reference is rounded to 6 decimals.
        assert_close("shared reference", &e.states[0], &theirs, TOL);
    }
}

#[test]
fn converted_model_gives_identical_outputs_and_f16_stays_close() {
    let dir = fixture("tiny-bert");
    let model = load(&dir, &cpu());
    let golden = Golden::read(&dir);
    let tokenizer = std::fs::read(dir.join("tokenizer.json")).unwrap();
    for half in [false, true] {
        let files = model.to_converted(tokenizer.clone(), half).unwrap();
        let get = |n: &str| files.iter().find(|(name, _)| *name == n).unwrap().1.clone();
        let converted = Pretrained::from_files(
            ModelFiles {
                config: get("config.json"),
                tokenizer: get("tokenizer.json"),
                weights: Weights::Burnpack(get("model.bpk")),
                name: "converted".into(),
            },
            &cpu(),
        )
        .unwrap();
        let d = check_batch_tolerant(&converted, &golden, if half { 5e-2 } else { TOL });
        eprintln!("converted (f16 = {half}): max |diff| {d:e}");
    }
    let f32_len = nuner::weights::save_burnpack(&model.encoder, false).unwrap().len();
    let f16_len = nuner::weights::save_burnpack(&model.encoder, true).unwrap().len();
    assert!((f16_len as f64) < 0.6 * f32_len as f64, "f16 {f16_len} bytes vs f32 {f32_len}");
}

fn check_batch_tolerant(model: &Pretrained, golden: &Golden, tol: f32) -> f32 {
    let input_ids = golden.ids("input_ids");
    let batch = TokenBatch {
        input_ids: input_ids.concat(),
        attention_mask: golden.ids("attention_mask").concat(),
        batch: input_ids.len(),
        seq: input_ids[0].len(),
    };
    let out = model.encoder.forward(batch.to_input(&model.config, &cpu()));
    assert_close("converted", &all_hidden(&out), &golden.tensor("hidden_states").1, tol)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

