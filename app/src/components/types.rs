//! Entity types: add, rename, recolour, delete. Their order gives the keys 1–9.

use leptos::prelude::*;

use crate::ctx::AppCtx;

/// The type bar above the document.
#[component]
pub fn TypeBar() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let (name, set_name) = signal(String::new());
    let add = move || {
        let n = name.get_untracked().trim().to_string();
        if n.is_empty() || nuner::data::span::check_label(&n).is_err() {
            return;
        }
        ctx.edit(|w| {
            w.ensure_type(&n);
        });
        set_name.set(String::new());
    };
    view! {
        <div class="type-bar" id="types">
            {move || ctx.ws.get().types.into_iter().enumerate().map(|(i, t)| {
                let old = t.name.clone();
                let (old2, old3) = (old.clone(), old.clone());
                view! {
                    <span class="type" data-type=t.name.clone() style:border-color=t.color.clone()>
                        <kbd>{(i < 9).then(|| (i + 1).to_string())}</kbd>
                        <input class="type-name" prop:value=t.name.clone()
                            on:change=move |ev| { let new = event_target_value(&ev); ctx.edit(|w| w.rename_type(&old, &new)) }/>
                        <input type="color" class="type-color" prop:value=t.color.clone()
                            on:change=move |ev| { let c = event_target_value(&ev); ctx.edit(|w| if let Some(t) = w.types.iter_mut().find(|t| t.name == old2) { t.color = c }) }/>
                        <button class="type-delete" title="Delete this type and its labels"
                            on:click=move |_| ctx.edit(|w| w.delete_type(&old3))>"×"</button>
                    </span>
                }
            }).collect_view()}
            <input id="new-type" placeholder="new type" prop:value=name
                on:input=move |ev| set_name.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { add() }/>
            <button id="add-type" on:click=move |_| add()>"Add type"</button>
        </div>
    }
}
