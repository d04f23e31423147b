//! The document list: status of each document, paste or import, export, the uncertainty queue.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::ctx::AppCtx;
use crate::files;
use crate::state::Status;

/// Document list with import/export controls.
#[component]
pub fn DocList() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let (paste, set_paste) = signal(String::new());
    let (message, set_message) = signal(None::<String>);
    let (queue_id, set_queue_id) = signal(None::<u64>);
    let (queue_docs, set_queue_docs) = signal(Vec::<u64>::new());

    let add_pasted = move |_| {
        let text = paste.get_untracked();
        let lines: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(String::from).collect();
        if lines.is_empty() {
            return;
        }
        let mut first = None;
        ctx.edit(|w| first = w.add_texts(lines).first().copied());
        ctx.doc.set(first);
        set_paste.set(String::new());
    };

    let on_import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        spawn_local(async move {
            let name = file.name();
            let result = files::read_file(&file).await.and_then(|bytes| files::import(&bytes, &name));
            match result {
                Ok(examples) => {
                    let n = examples.len();
                    let mut first = None;
                    ctx.edit(|w| {
                        for e in examples {
                            let labelled = !e.spans.is_empty();
                            let id = w.add_example(e, labelled);
                            first.get_or_insert(id);
                        }
                    });
                    ctx.doc.set(first.or(ctx.doc.get_untracked()));
                    set_message.set(Some(format!("imported {n} documents from {name}")));
                }
                // Nothing is added when any line is wrong.
                Err(e) => set_message.set(Some(format!("nothing imported: {e}"))),
            }
        });
    };

    let export = move |kind: &'static str| {
        let examples = ctx.ws.get_untracked().examples();
        let result = match kind {
            "jsonl" => files::download("nuner-labels.jsonl", &files::export_jsonl(&examples), "application/x-ndjson"),
            _ => files::export_conll(&examples).and_then(|c| files::download("nuner-labels.conll", &c, "text/plain")),
        };
        set_message.set(result.err().map(|e| format!("export failed: {e}")));
    };

    // The uncertainty queue: predict every unlabelled document, open the least certain.
    let next_uncertain = move |_| {
        let ws = ctx.ws.get_untracked();
        let docs: Vec<(u64, String)> = ws.docs.iter().filter(|d| d.status == Status::New).map(|d| (d.id, d.text.clone())).collect();
        if docs.is_empty() {
            set_message.set(Some("every document is labelled".into()));
            return;
        }
        set_queue_docs.set(docs.iter().map(|d| d.0).collect());
        set_queue_id.set(Some(ctx.bridge.predict(docs.into_iter().map(|d| d.1).collect())));
    };
    Effect::new(move |_| {
        let Some(p) = ctx.bridge.predicted.get() else { return };
        if Some(p.id) != queue_id.get_untracked() {
            return;
        }
        set_queue_id.set(None);
        let ids = queue_docs.get_untracked();
        let best = ids.iter().zip(&p.margins).min_by(|a, b| a.1.total_cmp(b.1)).map(|(id, _)| *id);
        let suggestions = p.spans.clone();
        ctx.ws.update(|w| {
            for (id, spans) in ids.iter().zip(suggestions) {
                if let Some(d) = w.doc_mut(*id) {
                    d.suggestions = spans;
                }
            }
        });
        ctx.doc.set(best);
        ctx.save();
    });

    view! {
        <aside class="doc-list">
            <h2>"Documents"</h2>
            <textarea id="paste" rows="3" placeholder="Paste text: one document per line" prop:value=paste
                on:input=move |ev| set_paste.set(event_target_value(&ev))></textarea>
            <button id="add-docs" on:click=add_pasted>"Add"</button>
            <label class="file">"Import "<input id="import" type="file" accept=".jsonl,.json,.conll,.txt,.tsv,.bio,.iob" on:change=on_import/></label>
            <div class="row">
                <button id="export-jsonl" on:click=move |_| export("jsonl")>"Export JSONL"</button>
                <button id="export-conll" on:click=move |_| export("conll")>"Export CoNLL"</button>
            </div>
            <button id="next-uncertain" on:click=next_uncertain disabled=move || ctx.bridge.head.get().is_none()>"Next most uncertain"</button>
            {move || message.get().map(|m| view! { <p class="message" id="doc-message">{m}</p> })}
            <ol id="docs">
                {move || ctx.ws.get().docs.into_iter().map(|d| {
                    let id = d.id;
                    let preview: String = d.text.chars().take(60).collect();
                    let status = match (d.status, d.suggestions.is_empty()) {
                        (Status::Labelled, _) => "labelled",
                        (Status::New, false) => "suggested",
                        (Status::New, true) => "new",
                    };
                    view! {
                        <li class="doc" class:open=move || ctx.doc.get() == Some(id) data-id=id data-status=status
                            on:click=move |_| ctx.doc.set(Some(id))>
                            <span class="badge">{status}</span>" "{preview}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </aside>
    }
}

fn event_target<T: JsCast>(ev: &leptos::ev::Event) -> T {
    ev.target().expect("event has a target").unchecked_into()
}
