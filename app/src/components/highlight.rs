//! Paste text, see typed entities with confidences. Each line is one text; long lines are
//! windowed by the model, never cut. Offsets are characters throughout.

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
    let (result, set_result) = signal(None::<(Vec<String>, Vec<Vec<Span>>, f64)>);
    let run = move || {
        let t = text.get_untracked();
        let lines: Vec<String> = t.lines().map(String::from).collect();
        set_request.set(Some((ctx.bridge.predict(lines), t)));
    };
    Effect::new(move |_| {
        let Some(p) = ctx.bridge.predicted.get() else { return };
        if let Some((id, t)) = request.get_untracked() {
            if p.id == id {
                set_request.set(None);
                set_result.set(Some((t.lines().map(String::from).collect(), p.spans, p.millis)));
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
            {move || result.get().map(|(lines, spans, ms)| {
                let count: usize = spans.iter().map(Vec::len).sum();
                let rendered = lines.into_iter().zip(spans).enumerate().map(|(i, (line, spans))| {
                    view! { <div class="hl-line" data-line=i>{render_line(&line, &spans, colors)}</div> }
                }).collect_view();
                view! {
                    <p class="timing" id="highlight-timing">{format!("{count} entities in {ms:.0} ms")}</p>
                    <div id="highlighted" class="doc-text" data-count=count>{rendered}</div>
                }
            })}
        </section>
    }
}

fn render_line(text: &str, spans: &[Span], colors: impl Fn(&str) -> String) -> Vec<AnyView> {
                let chars: Vec<char> = text.chars().collect();
                let mut out = Vec::new();
                let mut at = 0;
                for s in spans {
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
                if chars.is_empty() {
                    out.push(view! { <br/> }.into_any());
                }
                out
}
