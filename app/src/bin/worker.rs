use gloo_worker::Registrable;

fn register() {
    console_error_panic_hook::set_once();
    nuner_app::worker::ModelWorker::registrar().encoding::<nuner_app::protocol::MsgPack>().register();
}

/// The default build registers the worker as soon as the module starts (Trunk's loader shim).
#[cfg(not(feature = "threads"))]
fn main() {
    register();
}

/// The multi-threaded build starts nothing by itself: `public/worker_threads_loader.js` first
/// fills rayon's pool (`initThreadPool`, whose web workers instantiate this same module), then
/// calls [`start_worker`], so no request can reach rayon before its threads exist.
#[cfg(feature = "threads")]
fn main() {}

#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Registers the model worker (multi-threaded build; see `main`). `cores` is
/// `navigator.hardwareConcurrency` (0 if unknown): no more threads than that spin through a
/// forward pass ([`nuner::encoder::kernels::set_cores`]).
#[cfg(feature = "threads")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start_worker(cores: usize) {
    nuner::encoder::kernels::set_cores(cores);
    register();
}
