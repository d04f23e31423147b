//! The worker's jobs: inspect, train a head, set a head, predict, benchmark.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;



use nuner::data::Example;
use nuner::embed::{embed_texts, read_f32, EmbedOptions};
use nuner::heads::{FeatureConfig, HeadKind, LabelSet, SavedHead, WordFeatures};
use nuner::pipeline::{decode_all, features_of, tag_probabilities, training_rows};
use nuner::tokenize::words::Segmentation;
use nuner::train::{train_head, HeadTrainingConfig, TrainSet};
use nuner::TokenBatch;

use super::{loaded, now_ms, Loaded, Reply, State};
use crate::protocol::{chars_to_utf16, BenchResult, Embedded, HeadInfo, Predicted, Response, TokenView, TrainOptions};

/// Feature cache bound: beyond it the cache starts over.
const MAX_CACHED: usize = 20_000;

/// Word features of `texts`, computing only those not cached.
async fn features(state: &RefCell<State>, l: &Loaded, texts: &[String], reply: Option<&Reply>) -> Result<Vec<WordFeatures>, String> {
    let config = FeatureConfig::nuner(l.model.config.num_hidden_layers);
    let missing: Vec<String> = {
        let s = state.borrow();
        let mut m: Vec<String> = texts.iter().filter(|t| !s.features.contains_key(*t)).cloned().collect();
        m.sort();
        m.dedup();
        m
    };
    if !missing.is_empty() {
        let refs: Vec<&str> = missing.iter().map(String::as_str).collect();
        let mut progress = |done: usize, total: usize| {
            if let Some(r) = reply {
                r(Response::TrainProgress { stage: "features".into(), done, total, loss: None });
            }
        };
        let computed = features_of(&l.model, &refs, Segmentation::Unicode, &config, &l.device, &mut progress)
            .await
            .map_err(|e| e.to_string())?;
        let mut s = state.borrow_mut();
        if s.features.len() + computed.len() > MAX_CACHED {
            s.features.clear();
        }
        for (t, f) in missing.into_iter().zip(computed) {
            s.features.insert(t, f);
        }
    }
    let s = state.borrow();
    Ok(texts.iter().map(|t| s.features[t].clone()).collect())
}

/// Tokens, offsets and vector norms of one text (the inspector).
pub async fn embed(state: &RefCell<State>, id: u64, text: &str, layer: Option<usize>, reply: &Reply) -> Result<(), String> {
    let l = loaded(state)?;
    let start = now_ms();
    let mut options = EmbedOptions::last(&l.model);
    if let Some(layer) = layer {
        options.layers = vec![layer];
    }
    let e = embed_texts(&l.model, &[text], &options, &l.device).await.map_err(|e| e.to_string())?.remove(0);
    let spans: Vec<(usize, usize)> = e.offsets.iter().map(|o| o.unwrap_or((0, 0))).collect();
    let utf16 = chars_to_utf16(text, &spans);
    let tokens = (0..e.tokens.len())
        .map(|t| TokenView {
            token: e.tokens[t].clone(),
            chars: e.offsets[t],
            utf16: e.offsets[t].map(|_| utf16[t]),
            norm: e.vector(0, t).iter().map(|x| x * x).sum::<f32>().sqrt(),
        })
        .collect();
    reply(Response::Embedded(Embedded { id, tokens, millis: now_ms() - start }));
    Ok(())
}

/// Trains a head on labelled examples and makes it current.
pub async fn train(
    state: &RefCell<State>,
    examples: Vec<Example>,
    types: Vec<String>,
    options: TrainOptions,
    cancel: &Rc<Cell<bool>>,
    reply: &Reply,
) -> Result<(), String> {
    let l = loaded(state)?;
    let start = now_ms();
    let labels = LabelSet::new(types);
    if labels.types().is_empty() {
        return Err("add at least one entity type before training".into());
    }
    let texts: Vec<String> = examples.iter().map(|e| e.text.clone()).collect();
    let feats = features(state, &l, &texts, Some(reply)).await?;
    let (rows, _) = training_rows(&examples, &feats, &labels).map_err(|e| e.to_string())?;
    let kind = if options.head == "mlp" { HeadKind::Mlp } else { HeadKind::Linear };
    let config = HeadTrainingConfig::new()
        .with_kind(kind)
        .with_epochs(Some(options.epochs))
        .with_learning_rate(options.learning_rate)
        .with_seed(options.seed)
        .with_report_every((options.epochs / 60).max(1));
    let (head, report) = train_head(&config, &rows, labels.num_tags(), &l.device, &mut |p| {
        reply(Response::TrainProgress { stage: "training".into(), done: p.epoch, total: p.epochs, loss: Some(p.loss) });
        if cancel.get() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .await
    .map_err(|e| e.to_string())?;
    let mut summary = serde_json::json!({"sentences": examples.len(), "rows": rows.len(), "epochs": options.epochs, "where": "browser"});
    let (mut losses, mut cancelled) = (report.losses, report.cancelled);
    let head = if options.unfreeze > 0 && !cancelled {
        let (tuned, r) = super::tune::tune(state, &examples, &labels, head, &options, cancel, reply).await?;
        summary["unfreeze"] = options.unfreeze.into();
        summary["tune_steps"] = options.tune_steps.into();
        losses.extend(r.losses);
        cancelled = r.cancelled;
        tuned
    } else {
        head
    };
    // The encoder the head reads (fine-tuning replaces it).
    let l = loaded(state)?;
    let feature_config = FeatureConfig::nuner(l.model.config.num_hidden_layers);
    let saved = SavedHead::capture(&head, &l.model, feature_config, labels.clone(), summary).await.map_err(|e| e.to_string())?;
    let info = HeadInfo {
        json: String::from_utf8(saved.to_json_bytes()).expect("JSON is UTF-8"),
        types: labels.types().to_vec(),
        losses,
        seconds: (now_ms() - start) / 1e3,
        cancelled,
    };
    state.borrow_mut().head = Some(Rc::new((head, saved)));
    reply(Response::HeadReady(info));
    Ok(())
}

/// Makes a saved head current (after checking it belongs to this encoder).
pub fn set_head(state: &RefCell<State>, json: &str, reply: &Reply) -> Result<(), String> {
    let l = loaded(state)?;
    let saved = SavedHead::from_json_bytes(json.as_bytes(), "head file").map_err(|e| e.to_string())?;
    saved.check_encoder(&l.model, "head file").map_err(|e| e.to_string())?;
    if let Some(note) = saved.precision_note(&l.model) {
        web_sys::console::warn_1(&format!("head file: {note}").into());
    }
    let head = saved.to_head(&l.device);
    let info = HeadInfo {
        json: json.to_string(),
        types: saved.labels.types().to_vec(),
        losses: Vec::new(),
        seconds: 0.0,
        cancelled: false,
    };
    state.borrow_mut().head = Some(Rc::new((head, saved)));
    reply(Response::HeadReady(info));
    Ok(())
}

/// Predicted spans and uncertainty margins of texts.
pub async fn predict(state: &RefCell<State>, id: u64, texts: Vec<String>, reply: &Reply) -> Result<(), String> {
    let l = loaded(state)?;
    let head = state.borrow().head.clone().ok_or("train or load a head first")?;
    let start = now_ms();
    let feats = features(state, &l, &texts, None).await?;
    let probs = tag_probabilities(&head.0, &feats, &l.device).await.map_err(|e| e.to_string())?;
    let (spans, _) = decode_all(&probs, &feats, &head.1.labels);
    let n_tags = head.1.labels.num_tags();
    let margins = probs
        .iter()
        .map(|p| {
            p.chunks(n_tags)
                .map(|row| {
                    let (mut a, mut b) = (0.0f32, 0.0f32);
                    for &x in row {
                        if x > a {
                            b = a;
                            a = x;
                        } else if x > b {
                            b = x;
                        }
                    }
                    a - b
                })
                .fold(1.0f32, f32::min)
        })
        .collect();
    reply(Response::Predicted(Predicted { id, spans, margins, millis: now_ms() - start }));
    Ok(())
}

/// Timings for docs/BENCHMARKS.md, measured warm in this browser.
pub async fn bench(state: &RefCell<State>, batch: usize, seq: usize, iters: usize, reply: &Reply) -> Result<(), String> {
    let l = loaded(state)?;
    let m = &l.model;
    let err = |e: nuner::ModelError| e.to_string();
    // Encoder throughput on batch × seq pseudo-random ids.
    let mut seed = 42u64;
    let rows: Vec<Vec<u32>> = (0..batch)
        .map(|_| {
            let mut row: Vec<u32> = m.tokenizer.prefix().iter().map(|p| p.0).collect();
            while row.len() + m.tokenizer.suffix().len() < seq {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                row.push(((seed >> 33) % (m.config.vocab_size as u64 - 1000) + 1000) as u32);
            }
            row.extend(m.tokenizer.suffix().iter().map(|s| s.0));
            row
        })
        .collect();
    let tokens = TokenBatch::right_padded(&rows, m.config.pad_token_id as u32);
    let run = || async {
        let out = m.encoder.forward(tokens.to_input(&m.config, &l.device));
        read_f32(out.last_hidden_state().slice([0..1, 0..1, 0..1])).await
    };
    run().await.map_err(err)?;
    let t0 = now_ms();
    for _ in 0..iters {
        run().await.map_err(err)?;
    }
    let tokens_per_s = (iters * batch * seq) as f64 / ((now_ms() - t0) / 1e3);
    // Per-sentence latency of predict (features + head + decode), warm, without the cache.
    let sentence = nuner::pipeline::LATENCY_SENTENCE;
    let sentence_tokens = m.tokenizer.tokenize(sentence).map_err(err)?.len() + m.tokenizer.num_special();
    let config = FeatureConfig::nuner(m.config.num_hidden_layers);
    let once = || async {
        features_of(m, &[sentence], Segmentation::Unicode, &config, &l.device, &mut |_, _| {}).await
    };
    for _ in 0..3 {
        once().await.map_err(err)?;
    }
    let t0 = now_ms();
    let reps = 10;
    for _ in 0..reps {
        let f = once().await.map_err(err)?;
        if let Some(head) = state.borrow().head.clone() {
            let _ = tag_probabilities(&head.0, &f, &l.device).await;
        }
    }
    let sentence_ms = (now_ms() - t0) / reps as f64;
    // Head training: 50 sentences of 15 words, 9 tags, 30 epochs, on cached features.
    let set = TrainSet::synthetic(50 * 15, config.dim(m.config.hidden_size), 9);
    let cfg = HeadTrainingConfig::new().with_epochs(Some(30)).with_report_every(30);
    let t0 = now_ms();
    train_head(&cfg, &set, 9, &l.device, &mut |_| ControlFlow::Continue(())).await.map_err(err)?;
    let train_50x30_s = (now_ms() - t0) / 1e3;
    reply(Response::Benched(BenchResult { backend: l.backend.clone(), tokens_per_s, sentence_ms, sentence_tokens, train_50x30_s }));
    Ok(())
}
