//! The page's shared state: the workspace with its undo history, persisted on every change,
//! and what the user is looking at.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::bridge::Bridge;
use crate::state::{History, Workspace};
use crate::store;

/// Screens of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Label documents.
    Annotate,
    /// Train a head.
    Train,
    /// Paste text, see entities.
    Highlight,
    /// Tokens, offsets, vector norms.
    Inspect,
    /// Model and backend.
    Model,
}

/// Provided as context to every component.
#[derive(Clone, Copy)]
pub struct AppCtx {
    /// The worker.
    pub bridge: Bridge,
    /// Documents and types.
    pub ws: RwSignal<Workspace>,
    history: StoredValue<History>,
    /// The open document.
    pub doc: RwSignal<Option<u64>>,
    /// The visible screen.
    pub tab: RwSignal<Tab>,
    /// The trained head's JSON, as stored.
    pub head_json: RwSignal<Option<String>>,
    /// Encoder layers fine-tuned here, as stored (the head belongs to them).
    pub tuned: RwSignal<Option<std::sync::Arc<crate::protocol::TunedLayers>>>,
    /// True when `tuned` changed since it was last written.
    pub tuned_dirty: RwSignal<bool>,
    /// Last storage problem, if any.
    pub storage_error: RwSignal<Option<String>>,
    /// True once the stored state has been read and was readable (saving starts only then).
    pub restored: RwSignal<bool>,
}

impl AppCtx {
    /// A fresh context.
    pub fn new(bridge: Bridge) -> Self {
        Self {
            bridge,
            ws: RwSignal::new(Workspace::default()),
            history: StoredValue::new(History::default()),
            doc: RwSignal::new(None),
            tab: RwSignal::new(Tab::Annotate),
            head_json: RwSignal::new(None),
            tuned: RwSignal::new(None),
            tuned_dirty: RwSignal::new(false),
            storage_error: RwSignal::new(None),
            restored: RwSignal::new(false),
        }
    }

    /// Applies an undoable change and saves.
    pub fn edit(&self, f: impl FnOnce(&mut Workspace)) {
        let before = self.ws.get_untracked();
        let mut after = before.clone();
        f(&mut after);
        if after != before {
            self.history.update_value(|h| h.record(before));
            self.ws.set(after);
            self.save();
        }
    }

    /// Undoes the last change.
    pub fn undo(&self) {
        let current = self.ws.get_untracked();
        if let Some(prev) = self.history.try_update_value(|h| h.undo(current)).flatten() {
            self.ws.set(prev);
            self.save();
        }
    }

    /// Redoes the last undone change.
    pub fn redo(&self) {
        let current = self.ws.get_untracked();
        if let Some(next) = self.history.try_update_value(|h| h.redo(current)).flatten() {
            self.ws.set(next);
            self.save();
        }
    }

    /// Writes the workspace and head to IndexedDB.
    pub fn save(&self) {
        if !self.restored.get_untracked() {
            return;
        }
        let ws = self.ws.get_untracked();
        let head = self.head_json.get_untracked();
        // The tuned layers (megabytes) are written only when they changed, with their head.
        let tuned = if self.tuned_dirty.get_untracked() { self.tuned.get_untracked() } else { None };
        let (err, dirty) = (self.storage_error, self.tuned_dirty);
        spawn_local(async move {
            let result = store::save(&ws, head.as_deref(), tuned.as_deref()).await;
            if result.is_ok() && tuned.is_some() {
                dirty.set(false);
            }
            err.set(result.err());
        });
    }
}
