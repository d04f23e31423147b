use leptos::prelude::*;
use nuner_app::components::{query_param, App};

fn main() {
    console_error_panic_hook::set_once();
    // Choosing the worker build probes WebGPU, which is asynchronous; the page mounts after it.
    wasm_bindgen_futures::spawn_local(async {
        let backend = query_param("backend").unwrap_or_else(|| "auto".into());
        let loader = nuner_app::launch::pick_loader(&backend, query_param("threads").as_deref()).await;
        leptos::mount::mount_to_body(move || view! { <App loader=loader.clone() /> });
    });
}
