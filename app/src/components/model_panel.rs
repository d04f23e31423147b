//! The model screen: what runs where, another model from files, the in-browser benchmark.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::bridge::ModelStatus;
use crate::ctx::AppCtx;
use crate::files;

/// Model details, loading another model, benchmark.
#[component]
pub fn ModelPanel() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let (message, set_message) = signal(None::<String>);
    let load_files = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().expect("target").unchecked_into();
        let Some(list) = input.files() else { return };
        let picked: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        spawn_local(async move {
            let find = |name: &str| picked.iter().find(|f| f.name() == name).cloned();
            let (Some(c), Some(t), Some(w)) = (find("config.json"), find("tokenizer.json"), find("model.bpk")) else {
                set_message.set(Some("pick the three files made by `nuner convert`: config.json, tokenizer.json, model.bpk".into()));
                return;
            };
            let read = |f: web_sys::File| async move { files::read_file(&f).await };
            match (read(c).await, read(t).await, read(w).await) {
                (Ok(c), Ok(t), Ok(w)) => {
                    ctx.bridge.load_files("picked files".into(), c, t, w, "auto".into());
                    set_message.set(Some("loading…".into()));
                }
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => set_message.set(Some(e)),
            }
        });
    };
    view! {
        <section class="model-panel">
            {move || match ctx.bridge.status.get() {
                ModelStatus::Ready(info) => {
                    let switch = info.backend.starts_with("CPU").then(|| precision_switch(info.backend.contains("int8")));
                    view! {
                        <dl>
                            <dt>"Model"</dt><dd>{info.name}</dd>
                            <dt>"Backend"</dt><dd id="model-backend">{info.backend}</dd>
                            <dt>"Layers × hidden"</dt><dd>{format!("{} × {}", info.layers, info.hidden)}</dd>
                            <dt>"Fingerprint"</dt><dd><code>{info.fingerprint}</code></dd>
                        </dl>
                        {switch}
                    }.into_any()
                }
                _ => view! { <p>"Loading…"</p> }.into_any(),
            }}
            <label class="file">"Load a model made by "<code>"nuner convert"</code>" (select its three files) "
                <input id="model-files" type="file" multiple on:change=load_files/></label>
            <p class="hint">"Or open this page with "<code>"?model=URL"</code>" (a folder holding those files) and "<code>"?backend=cpu"</code>" to force the CPU."</p>
            {move || message.get().map(|m| view! { <p class="message">{m}</p> })}
            <button id="bench" on:click=move |_| ctx.bridge.bench(32, 128, 3)>"Benchmark this browser"</button>
            {move || ctx.bridge.benched.get().map(|b| view! {
                <pre id="bench-result" data-json=serde_json::to_string(&b).unwrap_or_default()>
                    {format!("{}: encoder {:.0} tokens/s (32×128); one sentence ({} tokens) {:.1} ms; head 50 sentences × 30 epochs {:.2} s",
                        b.backend, b.tokens_per_s, b.sentence_tokens, b.sentence_ms, b.train_50x30_s)}
                </pre>
            })}
        </section>
    }
}

/// A link that reloads the page with the CPU encoder in the other precision (`?precision=`).
fn precision_switch(int8: bool) -> impl IntoView {
    let (href, text) = if int8 {
        (super::with_param("precision", "f32"), "Run the encoder in f32 (the reference precision)")
    } else {
        (super::with_param("precision", "int8"), "Run the encoder's linear layers in 8 bits (faster on the multi-threaded CPU build, slightly less exact)")
    };
    view! { <p class="hint"><a id="precision" href=href>{text}</a></p> }
}
