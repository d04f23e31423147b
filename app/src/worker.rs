//! The model worker: owns the device, the encoder and the tokenizer; answers [`Request`]s.
//!
//! Runs in a dedicated web worker so that downloads, WebGPU start-up and forward passes never
//! block the page.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::Device;
use gloo_worker::{HandlerId, Worker, WorkerScope};
use js_sys::{Reflect, Uint8Array};
use nuner::embed::{embed_texts, EmbedOptions};
use nuner::{ModelFiles, Pretrained, Weights};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::protocol::{chars_to_utf16, Embedded, ModelInfo, Request, Response, TokenView};

struct Loaded {
    model: Pretrained,
    device: Device,
}

/// The worker's state; requests run as local tasks that share it.
pub struct ModelWorker {
    loaded: Rc<RefCell<Option<Rc<Loaded>>>>,
}

impl Worker for ModelWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        Self { loaded: Rc::new(RefCell::new(None)) }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Request, id: HandlerId) {
        let scope = scope.clone();
        let slot = self.loaded.clone();
        spawn_local(async move {
            let reply = |r: Response| scope.respond(id, r);
            match msg {
                Request::Load { base, backend } => match load(&base, &backend, &reply).await {
                    Ok((loaded, info)) => {
                        *slot.borrow_mut() = Some(Rc::new(loaded));
                        reply(Response::Ready(info));
                    }
                    Err(e) => reply(Response::Error(e)),
                },
                Request::Embed { id: rid, text, layer } => {
                    let loaded = slot.borrow().clone();
                    match loaded {
                        None => reply(Response::Error("the model is not loaded yet".into())),
                        Some(l) => match embed(&l, rid, &text, layer).await {
                            Ok(e) => reply(Response::Embedded(e)),
                            Err(e) => reply(Response::Error(e)),
                        },
                    }
                }
            }
        });
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn pick_device(backend: &str) -> (Device, String) {
    let _ = backend;
    #[cfg(target_family = "wasm")]
    if backend != "cpu" {
        match Device::wgpu_options().init_async().await {
            Ok(device) => return (device, "WebGPU".into()),
            Err(e) => web_sys::console::warn_1(&format!("WebGPU unavailable, using the CPU: {e:?}").into()),
        }
    }
    (Device::flex(), "CPU (flex, wasm)".into())
}

async fn load(base: &str, backend: &str, reply: &impl Fn(Response)) -> Result<(Loaded, ModelInfo), String> {
    let start = now_ms();
    let base = base.trim_end_matches('/');
    let (device, label) = pick_device(backend).await;
    let config = fetch_bytes(&format!("{base}/config.json"), reply).await?;
    let tokenizer = fetch_bytes(&format!("{base}/tokenizer.json"), reply).await?;
    let weights = fetch_bytes(&format!("{base}/model.bpk"), reply).await?;
    reply(Response::Progress { stage: "building the encoder".into(), done: 0, total: 0 });
    let files = ModelFiles { config, tokenizer, weights: Weights::Burnpack(weights), name: base.to_string() };
    let model = Pretrained::from_files(files, &device).map_err(|e| e.to_string())?;
    let info = ModelInfo {
        name: base.to_string(),
        backend: label,
        layers: model.config.num_hidden_layers,
        hidden: model.config.hidden_size,
        seconds: (now_ms() - start) / 1e3,
    };
    Ok((Loaded { model, device }, info))
}

async fn embed(l: &Loaded, id: u64, text: &str, layer: Option<usize>) -> Result<Embedded, String> {
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
    Ok(Embedded { id, tokens, millis: now_ms() - start })
}

/// Downloads `url` in chunks, reporting progress.
async fn fetch_bytes(url: &str, reply: &impl Fn(Response)) -> Result<Vec<u8>, String> {
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
