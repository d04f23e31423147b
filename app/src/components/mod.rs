//! The page's widgets, one per file.

mod inspector;
mod status;

pub use inspector::Inspector;
pub use status::StatusBar;

use leptos::prelude::*;

use crate::bridge::Bridge;

/// Where the set-up puts the default model (all-MiniLM-L6-v2, converted to f16 burnpack).
const DEFAULT_MODEL: &str = "./model";

/// Reads `name` from the page's query string (`?backend=cpu&model=...`).
fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search.trim_start_matches('?').split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| js_sys::decode_uri_component(v).ok().and_then(|s| s.as_string())).flatten()
    })
}

/// The root component: starts the worker and lays out the page.
#[component]
pub fn App() -> impl IntoView {
    let model = query_param("model").unwrap_or_else(|| DEFAULT_MODEL.into());
    let backend = query_param("backend").unwrap_or_else(|| "auto".into());
    let bridge = Bridge::start(&model, &backend);
    provide_context(bridge);
    view! {
        <header>
            <h1>"nuner"</h1>
            <p class="tagline">"Named-entity recognition that runs in your browser."</p>
        </header>
        <StatusBar/>
        <main>
            <Inspector/>
        </main>
    }
}
