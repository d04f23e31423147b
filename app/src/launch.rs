//! Which build of the model worker the page starts (see app/Cargo.toml).
//!
//! - The default build (Trunk's `worker_loader.js`): WebGPU when the browser offers an adapter,
//!   else the CPU backend on one thread.
//! - The multi-threaded CPU build (`worker_threads_loader.js`, made by scripts/build_threads.sh):
//!   rayon across web workers sharing the module's memory. It needs a cross-origin isolated page
//!   (COOP/COEP headers, for shared memory), and is only started when WebGPU will not be used.
//!
//! The multi-threaded build also uses relaxed SIMD; a browser without it gets the default build.
//!
//! `?threads=1` asks for the one-thread CPU build, `?threads=N` for a pool of N threads
//! (default: `navigator.hardwareConcurrency`). However many threads, no more than the cores
//! spin through a forward pass (`nuner::encoder::kernels::set_cores`).
//!
//! The multi-threaded build can fail to start where the default one works (no nested workers,
//! shared memory refused, a missing file). Its loader then posts the error on a
//! `BroadcastChannel` named in its URL ([`StartWatch::for_loader`]). The watch waits for that, or
//! for [`START_TIMEOUT_MS`] without news, and the bridge restarts on [`DEFAULT_LOADER`] on the CPU.

use std::future::Future;
use std::time::Duration;

use futures::future::{select, Either};
use gloo_timers::future::sleep;
use js_sys::Reflect;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The default worker's loader (Trunk's loader shim).
pub const DEFAULT_LOADER: &str = "./worker_loader.js";
/// The multi-threaded CPU worker's loader, in `public/`.
const THREADS_LOADER: &str = "./worker_threads_loader.js";
/// A file the multi-threaded build writes: present only when it was built.
const THREADS_MODULE: &str = "./threads/worker.js";
/// How long `requestAdapter()` may take before the page goes on without WebGPU (Chromium answers
/// in well under a second, also with its software adapter; a hung GPU process must not keep the
/// page blank).
const ADAPTER_TIMEOUT_MS: u64 = 2_000;
/// How long the multi-threaded worker may stay silent (no step of its loader, no answer) before
/// the page falls back to the default worker. Each step takes well under a second here.
pub const START_TIMEOUT_MS: u64 = 20_000;

/// The loader URL of the worker build to start for `backend` (`auto`, `cpu` or `webgpu`) and the
/// `?threads=` parameter.
pub async fn pick_loader(backend: &str, threads: Option<&str>) -> String {
    let Some(window) = web_sys::window() else { return DEFAULT_LOADER.into() };
    let isolated = Reflect::get(&window, &"crossOriginIsolated".into()).ok().and_then(|v| v.as_bool()) == Some(true);
    let cores = window.navigator().hardware_concurrency() as usize;
    let threads = match threads.map(str::parse::<usize>) {
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            web_sys::console::warn_1(&"?threads= takes a number; using every core".into());
            cores
        }
        None => cores,
    }
    .clamp(1, 64);
    if !isolated || threads < 2 || backend == "webgpu" {
        return DEFAULT_LOADER.into();
    }
    if backend != "cpu" && has_webgpu_adapter().await {
        return DEFAULT_LOADER.into();
    }
    if !has_relaxed_simd() {
        web_sys::console::warn_1(&"this browser has no relaxed SIMD, which the multi-threaded build needs; the CPU runs on one thread".into());
        return DEFAULT_LOADER.into();
    }
    if !exists(THREADS_MODULE).await {
        web_sys::console::warn_1(&"no multi-threaded build in this deployment; the CPU runs on one thread".into());
        return DEFAULT_LOADER.into();
    }
    format!("{THREADS_LOADER}?threads={threads}")
}

/// Whether `navigator.gpu.requestAdapter()` gives an adapter within [`ADAPTER_TIMEOUT_MS`].
async fn has_webgpu_adapter() -> bool {
    let probe = Box::pin(probe_webgpu_adapter());
    match select(probe, Box::pin(sleep(Duration::from_millis(ADAPTER_TIMEOUT_MS)))).await {
        Either::Left((found, _)) => found,
        Either::Right(_) => {
            web_sys::console::warn_1(&format!("no WebGPU adapter within {ADAPTER_TIMEOUT_MS} ms").into());
            false
        }
    }
}

async fn probe_webgpu_adapter() -> bool {
    let run = async {
        let navigator = web_sys::window().ok_or(JsValue::NULL)?.navigator();
        let gpu = Reflect::get(&navigator, &"gpu".into())?;
        if gpu.is_undefined() || gpu.is_null() {
            return Ok::<bool, JsValue>(false);
        }
        let request: js_sys::Function = Reflect::get(&gpu, &"requestAdapter".into())?.dyn_into()?;
        let promise: js_sys::Promise = request.call0(&gpu)?.dyn_into()?;
        let adapter = JsFuture::from(promise).await?;
        Ok(!adapter.is_null() && !adapter.is_undefined())
    };
    run.await.unwrap_or(false)
}

/// A module of one function that uses `f32x4.relaxed_madd`: valid only where relaxed SIMD is
/// enabled, which the multi-threaded build's kernels use (scripts/build_threads.sh).
const RELAXED_SIMD_PROBE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: one type, () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function, of type 0
    0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x85, 0x02, // f32x4.relaxed_madd
    0x0b, // end
];

/// Whether the browser validates [`RELAXED_SIMD_PROBE`].
fn has_relaxed_simd() -> bool {
    js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(RELAXED_SIMD_PROBE).into()).unwrap_or(false)
}

/// Whether `url` answers 200 (Trunk.toml sets `no_spa`, so `trunk serve` answers a missing file
/// with 404, not with index.html).
async fn exists(url: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    match JsFuture::from(window.fetch_with_str(url)).await {
        Ok(resp) => resp.dyn_into::<web_sys::Response>().is_ok_and(|r| r.ok()),
        Err(_) => false,
    }
}

/// Whether `loader` starts the multi-threaded build.
pub fn is_threads(loader: &str) -> bool {
    loader.starts_with(THREADS_LOADER)
}

/// Watches the start of the multi-threaded worker, whose loader reports on a `BroadcastChannel`
/// named in its URL. Made before the worker is spawned, so that no early message is missed (a
/// `BroadcastChannel` only delivers to channels that already exist).
pub struct StartWatch {
    channel: Option<web_sys::BroadcastChannel>,
    messages: futures::channel::mpsc::UnboundedReceiver<JsValue>,
    /// Held without a channel, so that `messages` stays open (pending) and only the timeout runs.
    _sender: Option<futures::channel::mpsc::UnboundedSender<JsValue>>,
    _on_message: Option<Closure<dyn Fn(web_sys::MessageEvent)>>,
}

impl StartWatch {
    /// `loader` with a fresh channel name in its URL, and a watch already listening on that
    /// channel. The name is unique per page, so another tab's failure never restarts this one.
    /// Without `BroadcastChannel`, only the timeout remains.
    pub fn for_loader(loader: &str) -> (String, Self) {
        let name = format!("nuner-start-{}", (js_sys::Math::random() * 1e12) as u64);
        let sep = if loader.contains('?') { '&' } else { '?' };
        let url = format!("{loader}{sep}channel={name}");
        let (tx, messages) = futures::channel::mpsc::unbounded();
        let Ok(channel) = web_sys::BroadcastChannel::new(&name) else {
            return (url, Self { channel: None, messages, _sender: Some(tx), _on_message: None });
        };
        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let _ = tx.unbounded_send(e.data());
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        (url, Self { channel: Some(channel), messages, _sender: None, _on_message: Some(on_message) })
    }

    /// Why the worker failed to start: the error its loader posted, or no news for
    /// [`START_TIMEOUT_MS`] since its last step (then the loader is told to close itself).
    /// `None` once `answered` completes (the worker's first response, or its sender dropped).
    pub async fn failure<A: Future + Unpin>(mut self, mut answered: A) -> Option<String> {
        use futures::StreamExt;
        let why = loop {
            // Made anew after each step the loader reports: the timeout counts quiet time.
            let quiet = Box::pin(sleep(Duration::from_millis(START_TIMEOUT_MS)));
            match select(&mut answered, select(self.messages.next(), quiet)).await {
                Either::Left(_) => break None,
                Either::Right((Either::Left((Some(msg), _)), _)) => {
                    if let Some(error) = Reflect::get(&msg, &"failed".into()).ok().and_then(|f| f.as_string()) {
                        break Some(error);
                    }
                }
                Either::Right((Either::Left((None, _)), _)) => unreachable!("the sender lives as long as the watch"),
                Either::Right((Either::Right(_), _)) => {
                    if let Some(c) = &self.channel {
                        let _ = c.post_message(&"stop".into());
                    }
                    break Some(format!("no answer in {} s", START_TIMEOUT_MS / 1000));
                }
            }
        };
        if let Some(c) = self.channel.take() {
            c.set_onmessage(None);
            c.close();
        }
        why
    }
}
