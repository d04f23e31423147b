//! Loading an encoder: choose the device, fetch the files (with progress), build the model.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::Device;
use js_sys::{Reflect, Uint8Array};
use nuner::{ModelFiles, Pretrained, Weights};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{now_ms, Loaded, Reply, State};
use crate::protocol::Response;

/// WebGPU when asked for (or `auto`) and the browser offers an adapter; else the CPU backend.
/// The multi-threaded build (`threads`, see app/Cargo.toml) is only started when WebGPU is not
/// used, and has no WebGPU.
async fn pick_device(backend: &str) -> (Device, String) {
    let _ = backend;
    let int8 = if nuner::encoder::kernels::int8() { ", int8" } else { "" };
    #[cfg(feature = "threads")]
    let cpu = format!("CPU (flex, wasm, {} threads{int8})", rayon::current_num_threads());
    #[cfg(not(feature = "threads"))]
    let cpu = format!("CPU (flex, wasm{int8})");
    #[cfg(feature = "webgpu")]
    if backend != "cpu" {
        match Device::wgpu_options().init_async().await {
            Ok(device) => return (device, "WebGPU".into()),
            Err(e) => web_sys::console::warn_1(&format!("WebGPU unavailable, using the CPU: {e:?}").into()),
        }
    }
    (Device::flex(), cpu)
}

/// Loads the model under the URL `base`.
pub async fn from_url(state: &RefCell<State>, base: &str, backend: &str, reply: &Reply) -> Result<(), String> {
    let start = now_ms();
    let base = base.trim_end_matches('/');
    let config = fetch_bytes(&format!("{base}/config.json"), reply).await?;
    let tokenizer = fetch_bytes(&format!("{base}/tokenizer.json"), reply).await?;
    let weights = fetch_bytes(&format!("{base}/model.bpk"), reply).await?;
    install(state, base.to_string(), config, tokenizer, weights, backend, start, reply).await
}

/// Loads a model from files the user picked.
pub async fn from_files(
    state: &RefCell<State>,
    name: String,
    config: Vec<u8>,
    tokenizer: Vec<u8>,
    weights: Vec<u8>,
    backend: &str,
    reply: &Reply,
) -> Result<(), String> {
    install(state, name, config, tokenizer, weights, backend, now_ms(), reply).await
}

#[allow(clippy::too_many_arguments)]
async fn install(
    state: &RefCell<State>,
    name: String,
    config: Vec<u8>,
    tokenizer: Vec<u8>,
    weights: Vec<u8>,
    backend: &str,
    start: f64,
    reply: &Reply,
) -> Result<(), String> {
    reply(Response::Progress { stage: "building the encoder".into(), done: 0, total: 0 });
    let (device, label) = pick_device(backend).await;
    let files = ModelFiles { config, tokenizer, weights: Weights::Burnpack(weights), name };
    let model = Pretrained::from_files(files, &device).map_err(|e| e.to_string())?;
    let base_fingerprint = model.fingerprint.clone();
    let loaded = Loaded { model, device, backend: label, base_fingerprint, tuned_layers: 0, seconds: (now_ms() - start) / 1e3 };
    let info = loaded.info();
    {
        let mut s = state.borrow_mut();
        s.features.clear();
        s.head = None;
        s.loaded = Some(Rc::new(loaded));
    }
    reply(Response::Ready(info));
    Ok(())
}

/// Downloads `url` in chunks, reporting progress.
async fn fetch_bytes(url: &str, reply: &Reply) -> Result<Vec<u8>, String> {
    let err = |e: JsValue| format!("{url}: {}", e.as_string().unwrap_or_else(|| format!("{e:?}")));
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let resp: web_sys::Response = JsFuture::from(global.fetch_with_str(url)).await.map_err(err)?.unchecked_into();
    if !resp.ok() {
        return Err(format!("{url}: HTTP {} {}", resp.status(), resp.status_text()));
    }
    let total: u64 = resp.headers().get("content-length").ok().flatten().and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = resp.body().ok_or_else(|| format!("{url}: empty body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total as usize);
    let stage = format!("downloading {}", url.rsplit('/').next().unwrap_or(url));
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(err)?;
        if Reflect::get(&chunk, &"done".into()).map_err(err)?.as_bool().unwrap_or(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into()).map_err(err)?.unchecked_into();
        bytes.extend_from_slice(&value.to_vec());
        reply(Response::Progress { stage: stage.clone(), done: bytes.len() as u64, total });
    }
    Ok(bytes)
}
