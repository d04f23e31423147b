//! The page's widgets, one per file, and the root component that wires them.

mod annotate;
mod docs;
mod highlight;
mod inspector;
mod model_panel;
mod status;
mod train;
mod types;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::bridge::{Bridge, ModelStatus};
use crate::ctx::{AppCtx, Tab};
use crate::state::Workspace;
use crate::{files, store};

/// Where the set-up puts the default model (all-MiniLM-L6-v2, converted to f16 burnpack).
const DEFAULT_MODEL: &str = "./model";
/// Example sentences written for this project, labelled, shipped in `public/demo`.
const DEMO: &str = "./demo/examples.jsonl";

/// Reads `name` from the page's query string (`?backend=cpu&model=...`).
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search.trim_start_matches('?').split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| js_sys::decode_uri_component(v).ok().and_then(|s| s.as_string())).flatten()
    })
}

/// This page's query string with `name` set to `value` (for links that reload the page so).
pub fn with_param(name: &str, value: &str) -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let mut pairs: Vec<&str> = search.trim_start_matches('?').split('&').filter(|kv| !kv.is_empty() && kv.split('=').next() != Some(name)).collect();
    let set = format!("{name}={value}");
    pairs.push(&set);
    format!("?{}", pairs.join("&"))
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp: web_sys::Response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {e:?}"))?
        .into();
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let text = wasm_bindgen_futures::JsFuture::from(resp.text().map_err(|e| format!("{e:?}"))?).await.map_err(|e| format!("{e:?}"))?;
    text.as_string().ok_or_else(|| format!("{url}: not text"))
}

/// Restores the stored workspace; on a first visit loads the demo examples and, once the model
/// is ready, trains on them so the visitor sees entities at once.
fn bootstrap(ctx: AppCtx) {
    spawn_local(async move {
        let stored = store::load().await;
        // An unreadable store is left as it is: nothing is saved over it this session.
        let readable = stored.is_ok();
        let (ws, head, tuned) = match stored {
            Ok(s) => {
                ctx.storage_error.set(s.problem);
                (s.workspace, s.head, s.tuned)
            }
            Err(e) => {
                ctx.storage_error.set(Some(e));
                (None, None, None)
            }
        };
        let tuned = tuned.map(std::sync::Arc::new);
        ctx.tuned.set(tuned.clone());
        let first_visit = ws.is_none() && query_param("demo").as_deref() != Some("0");
        let ws = match ws {
            Some(ws) => ws,
            None if query_param("demo").as_deref() == Some("0") => Workspace::default(),
            None => {
                let mut ws = Workspace::default();
                match fetch_text(DEMO).await.and_then(|t| files::import(t.as_bytes(), "demo/examples.jsonl")) {
                    Ok(examples) => {
                        for e in examples {
                            ws.add_example(e, true);
                        }
                    }
                    Err(e) => ctx.storage_error.set(Some(format!("demo examples: {e}"))),
                }
                ws
            }
        };
        ctx.doc.set(ws.docs.first().map(|d| d.id));
        ctx.ws.set(ws);
        ctx.head_json.set(head);
        ctx.restored.set(readable);
        ctx.save();
        // When the model is ready: restore the head, or train on the demo on a first visit.
        Effect::new(move |done: Option<bool>| {
            let ModelStatus::Ready(info) = ctx.bridge.status.get() else { return done.unwrap_or(false) };
            if done == Some(true) {
                return true;
            }
            // Layers fine-tuned in an earlier visit go back on the encoder they were tuned from.
            if let Some(t) = tuned.as_ref().filter(|t| t.base_fingerprint == info.fingerprint && info.tuned_layers == 0) {
                ctx.bridge.restore_tuned(t.bytes.clone(), ctx.head_json.get_untracked());
            } else if let Some(json) = ctx.head_json.get_untracked() {
                ctx.bridge.set_head(json);
            } else if first_visit {
                let ws = ctx.ws.get_untracked();
                let types = ws.types.iter().map(|t| t.name.clone()).collect();
                ctx.bridge.train(ws.training_examples(), types, Default::default());
                ctx.tab.set(Tab::Highlight);
            }
            true
        });
    });
}

/// The root component.
#[component]
pub fn App(
    /// Loader of the worker build to start ([`crate::launch::pick_loader`]).
    #[prop(into)]
    loader: String,
) -> impl IntoView {
    let model = query_param("model").unwrap_or_else(|| DEFAULT_MODEL.into());
    let backend = query_param("backend").unwrap_or_else(|| "auto".into());
    let int8 = query_param("precision").as_deref() == Some("int8");
    let bridge = Bridge::start(&model, &backend, int8, &loader);
    let ctx = AppCtx::new(bridge);
    provide_context(bridge);
    provide_context(ctx);
    bootstrap(ctx);
    // Keep the stored head (and the tuned layers it belongs to) in step with the worker's.
    Effect::new(move |_| {
        if let Some(h) = ctx.bridge.head.get() {
            let tuned = ctx.bridge.tuned.get_untracked();
            let new_tuned = tuned.is_some() && !ctx.tuned.with_untracked(|t| match (t, &tuned) {
                (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
                _ => false,
            });
            if new_tuned {
                ctx.tuned.set(tuned);
                ctx.tuned_dirty.set(true);
            }
            if new_tuned || ctx.head_json.get_untracked().as_deref() != Some(h.json.as_str()) {
                ctx.head_json.set(Some(h.json));
                ctx.save();
            }
        }
    });
    let tab_button = move |tab: Tab, label: &'static str, id: &'static str| {
        view! {
            <button id=id class="tab" class:active=move || ctx.tab.get() == tab on:click=move |_| ctx.tab.set(tab)>{label}</button>
        }
    };
    view! {
        <header>
            <h1>"nuner"</h1>
            <p class="tagline">"Label a few examples, train in your browser, find entities. Nothing leaves this page."</p>
        </header>
        <status::StatusBar/>
        <nav>
            {tab_button(Tab::Annotate, "Annotate", "tab-annotate")}
            {tab_button(Tab::Train, "Train", "tab-train")}
            {tab_button(Tab::Highlight, "Highlight", "tab-highlight")}
            {tab_button(Tab::Inspect, "Inspect", "tab-inspect")}
            {tab_button(Tab::Model, "Model", "tab-model")}
        </nav>
        {move || ctx.storage_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || ctx.bridge.error.get().map(|e| view! { <p class="error" id="worker-error" role="alert">{e}</p> })}
        <main>
            {move || match ctx.tab.get() {
                Tab::Annotate => view! {
                    <div class="annotate-layout">
                        <docs::DocList/>
                        <div class="annotate-main"><types::TypeBar/><annotate::DocView/></div>
                    </div>
                }.into_any(),
                Tab::Train => view! { <train::TrainPanel/> }.into_any(),
                Tab::Highlight => view! { <highlight::Highlight/> }.into_any(),
                Tab::Inspect => view! { <inspector::Inspector/> }.into_any(),
                Tab::Model => view! { <model_panel::ModelPanel/> }.into_any(),
            }}
        </main>
    }
}
