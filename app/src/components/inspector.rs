//! Type a text, see its tokens, their character offsets and the norm of each token's vector.

use leptos::prelude::*;

use crate::bridge::{Bridge, ModelStatus};


const SAMPLE: &str = "Barack Obama visited Paris with Apple engineers in 2015.";

/// Text box plus the token table of the latest result.
#[component]
pub fn Inspector() -> impl IntoView {
    let bridge = expect_context::<Bridge>();
    let (text, set_text) = signal(SAMPLE.to_string());
    // Hidden state shown: `None` = the last layer.
    let (layer, set_layer) = signal(None::<usize>);
    let layers = move || match bridge.status.get() {
        ModelStatus::Ready(info) => info.layers,
        _ => 0,
    };
    let ready = move || matches!(bridge.status.get(), ModelStatus::Ready(_));
    let run = move |_| bridge.embed(text.get_untracked(), layer.get_untracked());
    view! {
        <section class="inspector">
            <label for="text">"Text"</label>
            <textarea id="text" rows="3" prop:value=text on:input=move |ev| set_text.set(event_target_value(&ev))></textarea>
            <label for="layer">"Hidden state "</label>
            <select id="layer" on:change=move |ev| set_layer.set(event_target_value(&ev).parse().ok())>
                <option value="last" selected>"last layer"</option>
                {move || (0..=layers()).map(|l| view! {
                    <option value=l.to_string()>{if l == 0 { "0 (embeddings)".to_string() } else { format!("layer {l}") }}</option>
                }).collect_view()}
            </select>
            <button id="embed" on:click=run disabled=move || !ready()>"Embed"</button>
            {move || bridge.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || bridge.embedded.get().map(|e| view! {
                <p class="timing" id="timing">{format!("{} tokens in {:.1} ms", e.tokens.len(), e.millis)}</p>
                <table id="tokens" data-request=e.id>
                    <thead><tr><th>"#"</th><th>"token"</th><th>"chars"</th><th>"text"</th><th>"‖h‖"</th></tr></thead>
                    <tbody>
                        {e.tokens.into_iter().enumerate().map(|(i, t)| {
                            let slice = t.chars.map(|(s, e)| text.get_untracked().chars().skip(s).take(e - s).collect::<String>());
                            view! {
                                <tr data-norm=t.norm.to_string()>
                                    <td>{i}</td>
                                    <td class="token">{t.token}</td>
                                    <td>{t.chars.map(|(s, e)| format!("{s}–{e}")).unwrap_or_else(|| "special".into())}</td>
                                    <td class="slice">{slice.unwrap_or_default()}</td>
                                    <td class="norm">{format!("{:.4}", t.norm)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}
