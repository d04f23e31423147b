//! Which build of the model worker the page starts (see app/Cargo.toml).
//!
//! - The default build (Trunk's `worker_loader.js`): WebGPU when the browser offers an adapter,
//!   else the CPU backend on one thread.
//! - The multi-threaded CPU build (`worker_threads_loader.js`, made by scripts/build_threads.sh):
//!   rayon across web workers sharing the module's memory. It needs a cross-origin isolated page
//!   (COOP/COEP headers, for shared memory), and is only started when WebGPU will not be used.
//!
//! `?threads=1` asks for the one-thread CPU build, `?threads=N` for a pool of N threads
//! (default: `navigator.hardwareConcurrency`).

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The default worker's loader (Trunk's loader shim).
pub const DEFAULT_LOADER: &str = "./worker_loader.js";
/// The multi-threaded CPU worker's loader, in `public/`.
const THREADS_LOADER: &str = "./worker_threads_loader.js";
/// A file the multi-threaded build writes: present only when it was built.
const THREADS_MODULE: &str = "./threads/worker.js";

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
    if !exists(THREADS_MODULE).await {
        web_sys::console::warn_1(&"no multi-threaded build in this deployment; the CPU runs on one thread".into());
        return DEFAULT_LOADER.into();
    }
    format!("{THREADS_LOADER}?threads={threads}")
}

/// Whether `navigator.gpu.requestAdapter()` gives an adapter.
async fn has_webgpu_adapter() -> bool {
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

/// Whether `url` answers 200 (Trunk.toml sets `no_spa`, so `trunk serve` answers a missing file
/// with 404, not with index.html).
async fn exists(url: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    match JsFuture::from(window.fetch_with_str(url)).await {
        Ok(resp) => resp.dyn_into::<web_sys::Response>().is_ok_and(|r| r.ok()),
        Err(_) => false,
    }
}
