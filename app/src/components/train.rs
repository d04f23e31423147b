//! Training: options, progress bar, live loss curve, cancel; head import and export.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::bridge::TrainStatus;
use crate::ctx::AppCtx;
use crate::files;
use crate::protocol::TrainOptions;

/// An SVG polyline of the losses.
fn curve(losses: &[f32]) -> String {
    let max = losses.iter().copied().fold(f32::MIN, f32::max).max(1e-6);
    let n = losses.len().max(2) - 1;
    losses
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{:.1},{:.1}", 300.0 * i as f32 / n as f32, 100.0 - 95.0 * l / max))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The training screen.
#[component]
pub fn TrainPanel() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let (head, set_head) = signal("linear".to_string());
    let (epochs, set_epochs) = signal(300usize);
    let (unfreeze, set_unfreeze) = signal(0usize);
    let (tune_steps, set_tune_steps) = signal(100usize);
    let (message, set_message) = signal(None::<String>);
    let running = move || matches!(ctx.bridge.training.get(), TrainStatus::Running { .. });
    let train = move |_| {
        let ws = ctx.ws.get_untracked();
        let examples = ws.training_examples();
        if examples.is_empty() {
            set_message.set(Some("label a few documents first".into()));
            return;
        }
        set_message.set(None);
        let types = ws.types.iter().map(|t| t.name.clone()).collect();
        let lr = if head.get_untracked() == "mlp" { 1e-3 } else { 0.2 };
        let options = TrainOptions {
            head: head.get_untracked(),
            epochs: epochs.get_untracked(),
            learning_rate: lr,
            seed: 0,
            unfreeze: unfreeze.get_untracked(),
            tune_steps: tune_steps.get_untracked(),
        };
        ctx.bridge.train(examples, types, options);
    };
    let export_head = move |_| {
        if let Some(json) = ctx.head_json.get_untracked() {
            if let Err(e) = files::download("nuner.head.json", &json, "application/json") {
                set_message.set(Some(e));
            }
        }
    };
    let export_tuned = move |_| {
        let result = ctx.tuned.with_untracked(|t| match t {
            Some(t) => files::download_bytes("nuner.tuned-layers.bpk", &t.bytes, "application/octet-stream"),
            None => Ok(()),
        });
        if let Err(e) = result {
            set_message.set(Some(e));
        }
    };
    let import_head = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().expect("target").unchecked_into();
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        spawn_local(async move {
            match files::read_file(&file).await.and_then(|b| String::from_utf8(b).map_err(|e| e.to_string())) {
                Ok(json) => ctx.bridge.set_head(json),
                Err(e) => set_message.set(Some(e)),
            }
        });
    };
    let labelled = move || ctx.ws.with(|w| w.training_examples().len());
    view! {
        <section class="train">
            <h2>"Train a head"</h2>
            <p>"The encoder stays frozen; a small head learns from your "<strong id="labelled-count">{labelled}</strong>
               " labelled documents (features are computed once and reused when you retrain)."</p>
            <label>"Head "
                <select id="head-kind" on:change=move |ev| set_head.set(event_target_value(&ev))>
                    <option value="linear" selected>"linear (the paper's probe)"</option>
                    <option value="mlp">"2-layer MLP"</option>
                </select>
            </label>
            <label>" Epochs "<input id="epochs" type="number" min="1" max="5000" prop:value=move || epochs.get().to_string()
                on:change=move |ev| set_epochs.set(event_target_value(&ev).parse().unwrap_or(300))/></label>
            <details class="advanced">
                <summary>"Advanced: fine-tune the encoder too"</summary>
                <p>"After the head, train it together with the encoder's top layers (beyond the paper's frozen protocol). "
                   "Meant for WebGPU; slow on the CPU. The tuned layers replace the encoder's for this browser and are kept with the head."</p>
                <label>"Encoder layers "
                    <select id="unfreeze" on:change=move |ev| set_unfreeze.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0" selected>"none (frozen)"</option>
                        <option value="1">"top 1"</option>
                        <option value="2">"top 2"</option>
                    </select>
                </label>
                <label>" Steps "<input id="tune-steps" type="number" min="1" max="5000" prop:value=move || tune_steps.get().to_string()
                    on:change=move |ev| set_tune_steps.set(event_target_value(&ev).parse().unwrap_or(100))/></label>
            </details>
            <button id="train" on:click=train disabled=running>"Train"</button>
            <button id="cancel" on:click=move |_| ctx.bridge.cancel() disabled=move || !running()>"Cancel"</button>
            {move || message.get().map(|m| view! { <p class="message">{m}</p> })}
            {move || match ctx.bridge.training.get() {
                TrainStatus::Running { stage, done, total, losses } => view! {
                    <div id="train-progress" data-stage=stage.clone()>
                        <span>{format!("{stage} {done}/{total}")}</span>
                        <progress max=total.max(1).to_string() value=done.to_string()></progress>
                        <svg class="loss" viewBox="0 0 300 100"><polyline points=curve(&losses)/></svg>
                    </div>
                }.into_any(),
                TrainStatus::Idle => ctx.bridge.head.get().map(|h| view! {
                    <div id="trained" data-types=h.types.join(",") data-seconds=h.seconds.to_string()>
                        <p>{format!("Head over {} in {:.1} s{}; final loss {}.", h.types.join(", "), h.seconds,
                            if h.cancelled { " (cancelled)" } else { "" },
                            h.losses.last().map_or("n/a".to_string(), |l| format!("{l:.4}")))}</p>
                        <svg class="loss" viewBox="0 0 300 100"><polyline points=curve(&h.losses)/></svg>
                    </div>
                }).into_any(),
            }}
            <div class="row">
                <button id="export-head" on:click=export_head disabled=move || ctx.head_json.get().is_none()>"Export head"</button>
                <label class="file">"Import head "<input id="import-head" type="file" accept=".json" on:change=import_head/></label>
                <button id="export-tuned" on:click=export_tuned disabled=move || ctx.tuned.with(Option::is_none)
                    title="The encoder layers fine-tuned here; nuner convert BASE OUT --tuned FILE makes the encoder the head belongs to">
                    "Export tuned layers"</button>
            </div>
        </section>
    }
}
