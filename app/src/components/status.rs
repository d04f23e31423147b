//! The model status line: download progress, then the active backend.

use leptos::prelude::*;

use crate::bridge::{Bridge, ModelStatus};

/// Shows loading progress, the active device, or the loading error.
#[component]
pub fn StatusBar() -> impl IntoView {
    let bridge = expect_context::<Bridge>();
    move || match bridge.status.get() {
        ModelStatus::Loading { stage, fraction } => view! {
            <div class="status loading" data-state="loading">
                <span>{stage}</span>
                <progress max="1" value=fraction.map(|f| f.to_string()).unwrap_or_default()></progress>
            </div>
        }
        .into_any(),
        ModelStatus::Ready(info) => view! {
            <div class="status ready" data-state="ready">
                "Model "<code>{info.name.clone()}</code>" ("{info.layers}" layers, hidden "{info.hidden}") on "
                <strong id="backend" data-backend=info.backend.clone()>{info.backend.clone()}</strong>
                {format!(", loaded in {:.1} s", info.seconds)}
                {(info.tuned_layers > 0).then(|| view! {
                    <span id="tuned-status" data-layers=info.tuned_layers.to_string()>
                        {format!(" · top {} layer{} fine-tuned here", info.tuned_layers, if info.tuned_layers == 1 { "" } else { "s" })}
                    </span>
                })}
                {move || bridge.head.get().map(|h| view! {
                    <span id="head-status" data-types=h.types.join(",")>{format!(" · head: {}", h.types.join(", "))}</span>
                })}
            </div>
        }
        .into_any(),
        ModelStatus::Failed(msg) => view! {
            <div class="status failed" data-state="failed" role="alert">"Could not load the model: "{msg}</div>
        }
        .into_any(),
    }
}
