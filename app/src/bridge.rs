//! UI side of the worker: spawns it and turns its responses into signals.

use gloo_worker::{Spawnable, WorkerBridge};
use leptos::prelude::*;

use crate::protocol::{Embedded, ModelInfo, Request, Response};
use crate::worker::ModelWorker;

/// Model state as the UI sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    /// Files are downloading or the encoder is being built.
    Loading {
        /// Current step.
        stage: String,
        /// Fraction done, when known.
        fraction: Option<f64>,
    },
    /// Ready to run.
    Ready(ModelInfo),
    /// Loading failed.
    Failed(String),
}

/// Handle to the worker, provided as context.
#[derive(Clone, Copy)]
pub struct Bridge {
    worker: StoredValue<WorkerBridge<ModelWorker>, LocalStorage>,
    /// Loading state.
    pub status: ReadSignal<ModelStatus>,
    /// The latest embedding result.
    pub embedded: ReadSignal<Option<Embedded>>,
    /// The latest error from a request.
    pub error: ReadSignal<Option<String>>,
    next_id: StoredValue<u64>,
}

impl Bridge {
    /// Spawns the worker (Trunk's loader shim) and asks it to load the model under `base`.
    pub fn start(base: &str, backend: &str) -> Self {
        let (status, set_status) = signal(ModelStatus::Loading { stage: "starting the worker".into(), fraction: None });
        let (embedded, set_embedded) = signal(None::<Embedded>);
        let (error, set_error) = signal(None::<String>);
        let worker = ModelWorker::spawner()
            .callback(move |r| match r {
                Response::Progress { stage, done, total } => set_status.set(ModelStatus::Loading {
                    stage,
                    fraction: (total > 0).then(|| done as f64 / total as f64),
                }),
                Response::Ready(info) => set_status.set(ModelStatus::Ready(info)),
                Response::Embedded(e) => {
                    set_error.set(None);
                    set_embedded.set(Some(e));
                }
                Response::Error(msg) => {
                    if matches!(status.get_untracked(), ModelStatus::Loading { .. }) {
                        set_status.set(ModelStatus::Failed(msg));
                    } else {
                        set_error.set(Some(msg));
                    }
                }
            })
            .spawn_with_loader("./worker_loader.js");
        worker.send(Request::Load { base: base.into(), backend: backend.into() });
        Self { worker: StoredValue::new_local(worker), status, embedded, error, next_id: StoredValue::new(0) }
    }

    /// Asks for the embedding of `text`.
    pub fn embed(&self, text: String, layer: Option<usize>) {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        self.worker.with_value(|w| w.send(Request::Embed { id, text, layer }));
    }
}
