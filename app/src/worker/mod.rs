//! The model worker: owns the device, the encoder, the feature cache and the head; answers
//! [`Request`]s. It runs in a dedicated web worker so downloads, WebGPU start-up, forward passes
//! and training never block the page.
//!
//! Requests run as local tasks. State is borrowed only between `await`s, so a `Cancel` arriving
//! while a training task waits on the GPU is seen at its next step.

mod load;
mod tasks;
mod tune;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use burn::prelude::Device;
use gloo_worker::{HandlerId, Worker, WorkerScope};
use nuner::heads::{Head, SavedHead, WordFeatures};
use nuner::Pretrained;
use wasm_bindgen_futures::spawn_local;

use crate::protocol::{Request, Response};

/// A loaded encoder and where it runs.
pub struct Loaded {
    /// The model.
    pub model: Pretrained,
    /// Its device.
    pub device: Device,
    /// Label of the device for people.
    pub backend: String,
    /// Fingerprint of the encoder as loaded (before any fine-tuning here).
    pub base_fingerprint: String,
    /// Top layers fine-tuned in this browser (0 = as loaded).
    pub tuned_layers: usize,
    /// Seconds the load took.
    pub seconds: f64,
}

impl Loaded {
    /// What the UI shows about it.
    pub fn info(&self) -> crate::protocol::ModelInfo {
        crate::protocol::ModelInfo {
            name: self.model.name.clone(),
            backend: self.backend.clone(),
            layers: self.model.config.num_hidden_layers,
            hidden: self.model.config.hidden_size,
            seconds: self.seconds,
            fingerprint: self.model.fingerprint.clone(),
            tuned_layers: self.tuned_layers,
        }
    }
}

/// Everything the worker keeps between requests.
#[derive(Default)]
pub struct State {
    /// The encoder, once loaded.
    pub loaded: Option<Rc<Loaded>>,
    /// Word features by text (for the loaded encoder and its feature recipe).
    pub features: HashMap<String, WordFeatures>,
    /// The current head and its saved form.
    pub head: Option<Rc<(Head, SavedHead)>>,
}

/// The worker.
pub struct ModelWorker {
    state: Rc<RefCell<State>>,
    cancel: Rc<Cell<bool>>,
}

/// Sends responses for one request.
pub type Reply = Rc<dyn Fn(Response)>;

impl Worker for ModelWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        Self { state: Rc::new(RefCell::new(State::default())), cancel: Rc::new(Cell::new(false)) }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Request, id: HandlerId) {
        if let Request::Cancel = msg {
            self.cancel.set(true);
            return;
        }
        let scope = scope.clone();
        let reply: Reply = Rc::new(move |r| scope.respond(id, r));
        let state = self.state.clone();
        let cancel = self.cancel.clone();
        spawn_local(async move {
            let result = match msg {
                Request::Load { base, backend, int8 } => {
                    nuner::encoder::kernels::set_int8(int8);
                    load::from_url(&state, &base, &backend, &reply).await
                }
                Request::LoadFiles { name, config, tokenizer, weights, backend } => {
                    load::from_files(&state, name, config, tokenizer, weights, &backend, &reply).await
                }
                Request::Embed { id, text, layer } => tasks::embed(&state, id, &text, layer, &reply).await,
                Request::Train { examples, types, options } => {
                    cancel.set(false);
                    tasks::train(&state, examples, types, options, &cancel, &reply).await
                }
                Request::SetHead { json } => tasks::set_head(&state, &json, &reply),
                Request::Predict { id, texts } => tasks::predict(&state, id, texts, &reply).await,
                Request::RestoreTuned { layers, head } => tune::restore(&state, layers, head, &reply).await,
                Request::Bench { batch, seq, iters } => tasks::bench(&state, batch, seq, iters, &reply).await,
                Request::Cancel => Ok(()),
            };
            if let Err(message) = result {
                reply(Response::Error(message));
            }
        });
    }
}

/// The loaded encoder, or an error for people.
pub fn loaded(state: &RefCell<State>) -> Result<Rc<Loaded>, String> {
    state.borrow().loaded.clone().ok_or_else(|| "the model is not loaded yet".to_string())
}

/// Milliseconds since the epoch (wall clock for timings).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
