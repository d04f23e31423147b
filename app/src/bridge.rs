//! UI side of the worker: spawns it and turns its responses into signals.

use gloo_worker::{Spawnable, WorkerBridge};
use leptos::prelude::*;
use nuner::data::Example;

use std::sync::Arc;

use crate::launch;
use crate::protocol::{BenchResult, Embedded, HeadInfo, ModelInfo, Predicted, Request, Response, TrainOptions, TunedLayers};
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

/// Training state as the UI sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum TrainStatus {
    /// Nothing running.
    #[default]
    Idle,
    /// Running.
    Running {
        /// `features` or `training`.
        stage: String,
        /// Done.
        done: usize,
        /// Of.
        total: usize,
        /// Losses reported so far.
        losses: Vec<f32>,
    },
}

/// Handle to the worker, provided as context. Signals carry the latest response of each kind.
#[derive(Clone, Copy)]
pub struct Bridge {
    worker: StoredValue<WorkerBridge<ModelWorker>, LocalStorage>,
    /// Loading state.
    pub status: ReadSignal<ModelStatus>,
    /// Latest inspector result.
    pub embedded: ReadSignal<Option<Embedded>>,
    /// Training progress.
    pub training: ReadSignal<TrainStatus>,
    /// The head in use.
    pub head: ReadSignal<Option<HeadInfo>>,
    /// Latest predictions.
    pub predicted: ReadSignal<Option<Predicted>>,
    /// Latest benchmark.
    pub benched: ReadSignal<Option<BenchResult>>,
    /// Top layers fine-tuned in this session (sent before the head they belong to).
    pub tuned: ReadSignal<Option<Arc<TunedLayers>>>,
    /// Latest error from a request.
    pub error: ReadSignal<Option<String>>,
    set_error: WriteSignal<Option<String>>,
    set_training: WriteSignal<TrainStatus>,
    next_id: StoredValue<u64>,
}

impl Bridge {
    /// Spawns the worker through `loader` (see [`crate::launch`]) and asks it to load the model
    /// under `base`. If the multi-threaded build fails to start, it restarts on the default build.
    pub fn start(base: &str, backend: &str, int8: bool, loader: &str) -> Self {
        let (status, set_status) = signal(ModelStatus::Loading { stage: "starting the worker".into(), fraction: None });
        let (embedded, set_embedded) = signal(None::<Embedded>);
        let (training, set_training) = signal(TrainStatus::Idle);
        let (head, set_head) = signal(None::<HeadInfo>);
        let (predicted, set_predicted) = signal(None::<Predicted>);
        let (benched, set_benched) = signal(None::<BenchResult>);
        let (tuned, set_tuned) = signal(None::<Arc<TunedLayers>>);
        let (error, set_error) = signal(None::<String>);
        // Completed by the first response from a worker (the start watch below waits for it).
        let (answered_tx, answered) = futures::channel::oneshot::channel::<()>();
        let answered_tx = StoredValue::new(Some(answered_tx));
        let on_response = move |r: Response| {
            if let Some(Some(tx)) = answered_tx.try_update_value(Option::take) {
                let _ = tx.send(());
            }
            match r {
                Response::Progress { stage, done, total } => set_status
                    .set(ModelStatus::Loading { stage, fraction: (total > 0).then(|| done as f64 / total as f64) }),
                Response::Ready(info) => set_status.set(ModelStatus::Ready(info)),
                Response::Embedded(e) => set_embedded.set(Some(e)),
                Response::TrainProgress { stage, done, total, loss } => set_training.update(|t| {
                    let mut losses = match std::mem::take(t) {
                        TrainStatus::Running { losses, .. } => losses,
                        TrainStatus::Idle => Vec::new(),
                    };
                    losses.extend(loss);
                    *t = TrainStatus::Running { stage, done, total, losses };
                }),
                Response::HeadReady(info) => {
                    set_training.set(TrainStatus::Idle);
                    set_head.set(Some(info));
                }
                Response::Predicted(p) => set_predicted.set(Some(p)),
                Response::Benched(b) => set_benched.set(Some(b)),
                Response::Tuned(t) => set_tuned.set(Some(Arc::new(t))),
                Response::Error(msg) => {
                    if matches!(status.get_untracked(), ModelStatus::Loading { .. }) {
                        set_status.set(ModelStatus::Failed(msg));
                    } else {
                        set_training.set(TrainStatus::Idle);
                        set_error.set(Some(msg));
                    }
                }
            }
        };
        let spawn = move |loader: &str, base: &str, backend: &str| {
            let worker = ModelWorker::spawner()
                .callback(on_response)
                .encoding::<crate::protocol::MsgPack>()
                .spawn_with_loader(loader);
            worker.send(Request::Load { base: base.into(), backend: backend.into(), int8 });
            worker
        };
        let (base, backend) = (base.to_string(), backend.to_string());
        let worker = if launch::is_threads(loader) {
            let (loader, watch) = launch::StartWatch::for_loader(loader);
            let worker = StoredValue::new_local(spawn(&loader, &base, &backend));
            wasm_bindgen_futures::spawn_local(async move {
                let Some(why) = watch.failure(answered).await else { return };
                let msg = format!("the multi-threaded worker did not start ({why}); starting the one-thread worker");
                web_sys::console::warn_1(&msg.as_str().into());
                set_status.set(ModelStatus::Loading { stage: "starting the one-thread worker".into(), fraction: None });
                // Requests queued for the dead worker are gone: a training started meanwhile ends.
                set_training.set(TrainStatus::Idle);
                // The threaded build was picked because the CPU is to be used: keep to it.
                let _ = worker.try_set_value(spawn(launch::DEFAULT_LOADER, &base, "cpu"));
            });
            worker
        } else {
            StoredValue::new_local(spawn(loader, &base, &backend))
        };
        Self {
            worker,
            status,
            embedded,
            training,
            head,
            predicted,
            benched,
            tuned,
            error,
            set_error,
            set_training,
            next_id: StoredValue::new(0),
        }
    }

    fn send(&self, r: Request) {
        self.set_error.set(None);
        self.worker.with_value(|w| w.send(r));
    }

    fn id(&self) -> u64 {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        id
    }

    /// Asks for the embedding of `text`.
    pub fn embed(&self, text: String, layer: Option<usize>) {
        let id = self.id();
        self.send(Request::Embed { id, text, layer });
    }

    /// Starts training; progress arrives in [`Self::training`], the head in [`Self::head`].
    pub fn train(&self, examples: Vec<Example>, types: Vec<String>, options: TrainOptions) {
        self.set_training.set(TrainStatus::Running { stage: "starting".into(), done: 0, total: 0, losses: Vec::new() });
        self.send(Request::Train { examples, types, options });
    }

    /// Stops training after the current step.
    pub fn cancel(&self) {
        self.worker.with_value(|w| w.send(Request::Cancel));
    }

    /// Uses a saved head.
    pub fn set_head(&self, json: String) {
        self.send(Request::SetHead { json });
    }

    /// Puts back top layers tuned in an earlier session, then uses `head`.
    pub fn restore_tuned(&self, layers: Vec<u8>, head: Option<String>) {
        self.send(Request::RestoreTuned { layers, head });
    }

    /// Predicts entities; returns the request id to match in [`Self::predicted`].
    pub fn predict(&self, texts: Vec<String>) -> u64 {
        let id = self.id();
        self.send(Request::Predict { id, texts });
        id
    }

    /// Loads a model from picked files.
    pub fn load_files(&self, name: String, config: Vec<u8>, tokenizer: Vec<u8>, weights: Vec<u8>, backend: String) {
        self.send(Request::LoadFiles { name, config, tokenizer, weights, backend });
    }

    /// Runs the in-browser benchmark.
    pub fn bench(&self, batch: usize, seq: usize, iters: usize) {
        self.send(Request::Bench { batch, seq, iters });
    }
}
