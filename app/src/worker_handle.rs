//! The model worker as the UI build sees it (no `model` feature: no Burn in the UI's module).
//!
//! gloo-worker names a worker by its type on both sides of the bridge: the UI spawns
//! `ModelWorker` and exchanges [`Request`]s and [`Response`]s with it, while the worker build's
//! `ModelWorker` (`crate::worker`, with the model) answers them. This type carries the same
//! messages and is never run: its methods execute only inside a worker, and the UI build is never
//! loaded as one.

use gloo_worker::{HandlerId, Worker, WorkerScope};

use crate::protocol::{Request, Response};

/// The worker, seen from the UI.
pub struct ModelWorker;

impl Worker for ModelWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        unreachable!("the UI build never runs the model worker: Trunk builds it with the `webgpu` feature")
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, _scope: &WorkerScope<Self>, _msg: Request, _id: HandlerId) {}
}
