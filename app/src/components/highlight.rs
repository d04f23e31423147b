//! Paste text, see typed entities with confidences. Long texts are windowed by the model, never
//! cut; offsets are characters, converted to UTF-16 only for the DOM.

use leptos::prelude::*;
use nuner::data::Span;

use crate::ctx::AppCtx;

const SAMPLE: &str = "Marie Curie moved from Warsaw to Paris, where she worked at the University of Paris with Pierre Curie.";

/// The highlight screen.
#[component]
pub fn Highlight() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let (text, set_text) = signal(SAMPLE.to_string());
    let (request, set_request) = signal(None::<(u64, String)>);
    let (result, set_result) = signal(None::<(String, Vec<Span>, f64)>);
    let run = move || {
        let t = text.get_untracked();
        let lines: Vec<String> = vec![t.clone()];
        set_request.set(Some((ctx.bridge.predict(lines), t)));
    };
    Effect::new(move |_| {
        let Some(p) = ctx.bridge.predicted.get() else { return };
        if let Some((id, t)) = request.get_untracked() {
            if p.id == id {
                set_request.set(None);
                set_result.set(Some((t, p.spans.into_iter().next().unwrap_or_default(), p.millis)));
            }
        }
    });
    // Highlight the sample as soon as a head exists (first visit: right after the demo trains).
    Effect::new(move |done: Option<bool>| {
        if done != Some(true) && ctx.bridge.head.get().is_some() {
            run();
            return true;
        }
        done.unwrap_or(false)
    });
    let colors = move |label: &str| ctx.ws.with(|w| w.types.iter().find(|t| t.name == label).map_or("#ddd".into(), |t| t.color.clone()));
    view! {
        <section class="highlight">
            <textarea id="highlight-text" rows="5" prop:value=text on:input=move |ev| set_text.set(event_target_value(&ev))></textarea>
            <button id="highlight" on:click=move |_| run() disabled=move || ctx.bridge.head.get().is_none()>"Find entities"</button>
            {move || ctx.bridge.head.get().is_none().then(|| view! { <p class="hint">"Training on the examples… (or train a head on the Train tab)"</p> })}
            {move || result.get().map(|(t, spans, ms)| {
                let chars: Vec<char> = t.chars().collect();
                let mut out = Vec::new();
                let mut at = 0;
                for s in &spans {
                    if s.start > at {
                        out.push(view! { <span>{chars[at..s.start].iter().collect::<String>()}</span> }.into_any());
                    }
                    let piece: String = chars[s.start..s.end].iter().collect();
                    out.push(view! {
                        <mark class="ent" style:background=colors(&s.label) data-start=s.start data-end=s.end data-label=s.label.clone()
                            data-score=s.score.unwrap_or(0.0).to_string()>
                            {piece}<sup class="tag">{format!("{} {:.0}%", s.label, 100.0 * s.score.unwrap_or(0.0))}</sup>
                        </mark>
                    }.into_any());
                    at = s.end;
                }
                if at < chars.len() {
                    out.push(view! { <span>{chars[at..].iter().collect::<String>()}</span> }.into_any());
                }
                view! {
                    <p class="timing" id="highlight-timing">{format!("{} entities in {ms:.0} ms", spans.len())}</p>
                    <div id="highlighted" class="doc-text" data-count=spans.len()>{out}</div>
                }
            })}
        </section>
    }
}
