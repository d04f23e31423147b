//! The document being labelled: select text with the mouse (snapped to word boundaries), press
//! 1–9 or click a type; click a label to change or remove it; accept or reject suggestions.
//!
//! Keys: 1–9 label the selection (or retype the selected label, or accept the selected
//! suggestion as that type), Enter accepts a suggestion, Delete/Backspace removes a label or
//! rejects a suggestion, Escape clears, Ctrl+Z / Ctrl+Y undo and redo.

use leptos::ev;
use leptos::prelude::*;
use nuner::data::Span;
use nuner::tokenize::words::{segment, Segmentation};
use wasm_bindgen::JsCast;

use crate::ctx::AppCtx;
use crate::protocol::utf16_to_char;
use crate::state::Doc;

/// What is picked in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    /// A fresh selection to label: `[start, end)` characters.
    Text(usize, usize),
    /// An existing label.
    Label(usize, usize),
    /// A suggestion.
    Suggestion(usize, usize),
}

/// Character range of the browser selection inside the document, snapped to word units.
fn selection_range(text: &str) -> Option<(usize, usize)> {
    let sel = web_sys::window()?.get_selection().ok()??;
    if sel.is_collapsed() {
        return None;
    }
    let a = point(&sel.anchor_node()?, sel.anchor_offset() as usize)?;
    let b = point(&sel.focus_node()?, sel.focus_offset() as usize)?;
    let (start, end) = (a.min(b), a.max(b));
    let units = segment(text, Segmentation::Unicode);
    let s = units.iter().find(|u| u.1 > start)?.0;
    let e = units.iter().rev().find(|u| u.0 < end)?.1;
    (s < e).then_some((s, e))
}

/// Character offset of a DOM selection end point inside a rendered piece.
fn point(node: &web_sys::Node, offset: usize) -> Option<usize> {
    let element = if node.node_type() == web_sys::Node::TEXT_NODE { node.parent_element()? } else { node.clone().dyn_into().ok()? };
    if let Some(piece) = element.closest("[data-s]").ok()? {
        let s: usize = piece.get_attribute("data-s")?.parse().ok()?;
        let e: usize = piece.get_attribute("data-e")?.parse().ok()?;
        if node.node_type() != web_sys::Node::TEXT_NODE {
            return Some(if offset == 0 { s } else { e });
        }
        let text = piece.text_content().unwrap_or_default();
        return Some((s + utf16_to_char(&text, offset)).min(e));
    }
    // In a label badge: the end of its mark.
    let mark = element.closest("mark[data-end]").ok()??;
    mark.get_attribute("data-end")?.parse().ok()
}

/// Pieces of the text between every unit, label and suggestion boundary.
fn pieces(doc: &Doc) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = doc.text.chars().collect();
    let mut cuts: Vec<usize> = vec![0, chars.len()];
    for (s, e) in segment(&doc.text, Segmentation::Unicode) {
        cuts.extend([s, e]);
    }
    for sp in doc.spans.iter().chain(&doc.suggestions) {
        cuts.extend([sp.start.min(chars.len()), sp.end.min(chars.len())]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2).map(|w| (w[0], w[1], chars[w[0]..w[1]].iter().collect())).collect()
}

/// The open document, rendered with its labels and suggestions.
#[component]
pub fn DocView() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let pick = RwSignal::new(None::<Pick>);
    let (suggest_id, set_suggest_id) = signal(None::<(u64, u64)>);
    let doc = move || ctx.doc.get().and_then(|id| ctx.ws.with(|w| w.docs.iter().find(|d| d.id == id).cloned()));
    Effect::new(move |_| {
        ctx.doc.track();
        pick.set(None);
    });

    let label_as = move |type_index: usize| {
        let Some(d) = doc() else { return };
        let Some(t) = ctx.ws.with_untracked(|w| w.types.get(type_index).map(|t| t.name.clone())) else { return };
        match pick.get_untracked() {
            Some(Pick::Text(s, e)) | Some(Pick::Label(s, e)) => ctx.edit(|w| w.label(d.id, s, e, &t)),
            Some(Pick::Suggestion(s, e)) => ctx.edit(|w| w.accept(d.id, s, e, Some(&t))),
            None => return,
        }
        pick.set(None);
        clear_selection();
    };
    let remove = move || {
        let Some(d) = doc() else { return };
        match pick.get_untracked() {
            Some(Pick::Label(s, e)) => ctx.edit(|w| w.unlabel(d.id, s, e)),
            Some(Pick::Suggestion(s, e)) => ctx.edit(|w| w.reject(d.id, s, e)),
            _ => return,
        }
        pick.set(None);
    };
    let accept = move || {
        if let (Some(d), Some(Pick::Suggestion(s, e))) = (doc(), pick.get_untracked()) {
            ctx.edit(|w| w.accept(d.id, s, e, None));
            pick.set(None);
        }
    };
    let keys = window_event_listener(ev::keydown, move |ev| {
        let typing = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing {
            return;
        }
        let key = ev.key();
        match key.as_str() {
            "z" | "Z" if ev.ctrl_key() && ev.shift_key() => ctx.redo(),
            "z" if ev.ctrl_key() => ctx.undo(),
            "y" if ev.ctrl_key() => ctx.redo(),
            "Escape" => {
                pick.set(None);
                clear_selection();
            }
            "Enter" => accept(),
            "Delete" | "Backspace" => remove(),
            k if k.len() == 1 && ('1'..='9').contains(&k.chars().next().unwrap_or('0')) => {
                label_as(k.parse::<usize>().unwrap_or(1) - 1);
            }
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());

    let on_mouseup = move |_| {
        if let Some(d) = doc() {
            if let Some((s, e)) = selection_range(&d.text) {
                pick.set(Some(Pick::Text(s, e)));
            }
        }
    };
    let suggest = move |_| {
        if let Some(d) = doc() {
            set_suggest_id.set(Some((ctx.bridge.predict(vec![d.text.clone()]), d.id)));
        }
    };
    Effect::new(move |_| {
        let Some(p) = ctx.bridge.predicted.get() else { return };
        if let Some((rid, doc_id)) = suggest_id.get_untracked() {
            if p.id == rid {
                set_suggest_id.set(None);
                let spans = p.spans.into_iter().next().unwrap_or_default();
                ctx.edit(|w| {
                    if let Some(d) = w.doc_mut(doc_id) {
                        d.suggestions = spans.into_iter().filter(|s| !d.spans.iter().any(|l| l.start < s.end && s.start < l.end)).collect();
                    }
                });
            }
        }
    });

    let picked_text = move || {
        let d = doc()?;
        let (s, e) = match pick.get()? {
            Pick::Text(s, e) | Pick::Label(s, e) | Pick::Suggestion(s, e) => (s, e),
        };
        Some(d.text.chars().skip(s).take(e - s).collect::<String>())
    };
    let label_all = move |_| {
        if let (Some(text), Some(Pick::Label(s, _))) = (picked_text(), pick.get_untracked()) {
            let label = doc().and_then(|d| d.spans.iter().find(|x| x.start == s).map(|x| x.label.clone()));
            if let Some(label) = label {
                ctx.edit(|w| {
                    w.label_all(&text, &label);
                });
            }
        }
    };

    view! {
        <section class="doc-view">
            <div class="toolbar">
                <button id="undo" on:click=move |_| ctx.undo()>"Undo"</button>
                <button id="redo" on:click=move |_| ctx.redo()>"Redo"</button>
                <button id="suggest" on:click=suggest disabled=move || ctx.bridge.head.get().is_none()>"Suggest entities"</button>
                {move || picked_text().map(|t| view! {
                    <span class="picked" id="picked">"“"{t}"” → "</span>
                    {ctx.ws.get().types.into_iter().enumerate().take(9).map(|(i, ty)| view! {
                        <button class="type-choice" style:background=ty.color.clone() on:click=move |_| label_as(i)>
                            {format!("{} {}", i + 1, ty.name)}
                        </button>
                    }).collect_view()}
                    {matches!(pick.get(), Some(Pick::Label(..))).then(|| view! {
                        <button id="label-all" on:click=label_all>"Label all occurrences"</button>
                        <button id="remove-label" on:click=move |_| remove()>"Remove"</button>
                    })}
                    {matches!(pick.get(), Some(Pick::Suggestion(..))).then(|| view! {
                        <button id="accept" on:click=move |_| accept()>"Accept"</button>
                        <button id="reject" on:click=move |_| remove()>"Reject"</button>
                    })}
                })}
            </div>
            {move || match doc() {
                None => view! { <p class="hint">"Add or import documents, then pick one on the left."</p> }.into_any(),
                Some(d) => render_doc(d, ctx, pick, on_mouseup).into_any(),
            }}
            <p class="hint">"Select words and press 1–9 (or click a type). Labels do not overlap: a new label replaces those it touches."</p>
        </section>
    }
}

fn selection_collapsed() -> bool {
    web_sys::window().and_then(|w| w.get_selection().ok().flatten()).is_none_or(|s| s.is_collapsed())
}

fn clear_selection() {
    if let Some(sel) = web_sys::window().and_then(|w| w.get_selection().ok().flatten()) {
        let _ = sel.remove_all_ranges();
    }
}

fn render_doc(d: Doc, ctx: AppCtx, pick: RwSignal<Option<Pick>>, on_mouseup: impl Fn(ev::MouseEvent) + 'static) -> impl IntoView {
    let types = ctx.ws.with_untracked(|w| w.types.clone());
    let color = move |label: &str| types.iter().find(|t| t.name == label).map_or("#ddd".to_string(), |t| t.color.clone());
    let mut groups: Vec<(Option<(Span, bool)>, Vec<(usize, usize, String)>)> = Vec::new();
    for p in pieces(&d) {
        let owner = d.spans.iter().map(|s| (s, false)).chain(d.suggestions.iter().map(|s| (s, true))).find(|(s, _)| s.start <= p.0 && p.1 <= s.end);
        let owner = owner.map(|(s, sug)| (s.clone(), sug));
        match groups.last_mut() {
            Some((o, ps)) if o.is_some() && *o == owner => ps.push(p),
            _ => groups.push((owner, vec![p])),
        }
    }
    let text_of = |ps: Vec<(usize, usize, String)>| {
        ps.into_iter().map(|(s, e, t)| view! { <span class="p" data-s=s data-e=e>{t}</span> }).collect_view()
    };
    view! {
        <div id="doc-text" class="doc-text" data-doc=d.id on:mouseup=on_mouseup>
            {groups.into_iter().map(|(owner, ps)| match owner {
                None => text_of(ps).into_any(),
                Some((span, suggestion)) => {
                    let (s, e) = (span.start, span.end);
                    let me = if suggestion { Pick::Suggestion(s, e) } else { Pick::Label(s, e) };
                    let badge = match span.score {
                        Some(p) if suggestion => format!("{} {:.0}%", span.label, 100.0 * p),
                        _ => span.label.clone(),
                    };
                    view! {
                        <mark class=if suggestion { "ent suggestion" } else { "ent" } class:picked=move || pick.get() == Some(me)
                            style:background=color(&span.label) data-start=s data-end=e data-label=span.label.clone()
                            on:click=move |_| if selection_collapsed() { pick.set(Some(me)) }>
                            {text_of(ps)}<sup class="tag">{badge}</sup>
                        </mark>
                    }.into_any()
                }
            }).collect_view()}
        </div>
    }
}
