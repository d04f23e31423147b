//! The UI's entry point (browser only: Trunk builds it for wasm32 with the `ui` feature).

#[cfg(all(feature = "ui", target_family = "wasm"))]
use leptos::prelude::*;
#[cfg(all(feature = "ui", target_family = "wasm"))]
use nuner_app::components::{query_param, App};

/// Natively there is no UI: the page is built by Trunk (see the README).
#[cfg(not(all(feature = "ui", target_family = "wasm")))]
fn main() {
    eprintln!("the nuner UI runs in the browser: `./scripts/serve.sh` (see the README)");
    std::process::exit(2);
}

#[cfg(all(feature = "ui", target_family = "wasm"))]
fn main() {
    console_error_panic_hook::set_once();
    // Choosing the worker build probes WebGPU, which is asynchronous; the page mounts after it.
    wasm_bindgen_futures::spawn_local(async {
        let backend = query_param("backend").unwrap_or_else(|| "auto".into());
        let loader = nuner_app::launch::pick_loader(&backend, query_param("threads").as_deref()).await;
        leptos::mount::mount_to_body(move || view! { <App loader=loader.clone() /> });
    });
}
