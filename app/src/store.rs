//! Persistence in IndexedDB: the workspace, the trained head and encoder layers fine-tuned
//! here survive reloads and browser restarts. They are written in one transaction, so a failed
//! write leaves the previous state.

use idb::{Database, DatabaseEvent, Factory, ObjectStoreParams, TransactionMode};
use wasm_bindgen::JsValue;

use crate::state::Workspace;

const DB: &str = "nuner";
const STORE: &str = "state";
const WORKSPACE: &str = "workspace";
const HEAD: &str = "head";
const TUNED: &str = "tuned";

use crate::protocol::TunedLayers;

/// What was stored.
pub struct Stored {
    /// The workspace.
    pub workspace: Option<Workspace>,
    /// The head (JSON).
    pub head: Option<String>,
    /// Fine-tuned encoder layers.
    pub tuned: Option<TunedLayers>,
    /// Stored tuned layers that could not be read (left as they are; the rest still loads).
    pub problem: Option<String>,
}

fn err(e: impl std::fmt::Display) -> String {
    format!("browser storage: {e}")
}

async fn open() -> Result<Database, String> {
    let factory = Factory::new().map_err(err)?;
    let mut request = factory.open(DB, Some(1)).map_err(err)?;
    request.on_upgrade_needed(|event| {
        if let Ok(db) = event.database() {
            let _ = db.create_object_store(STORE, ObjectStoreParams::new());
        }
    });
    request.await.map_err(err)
}

/// What was stored.
pub async fn load() -> Result<Stored, String> {
    let db = open().await?;
    let tx = db.transaction(&[STORE], TransactionMode::ReadOnly).map_err(err)?;
    let store = tx.object_store(STORE).map_err(err)?;
    let ws: Option<JsValue> = store.get(JsValue::from_str(WORKSPACE)).map_err(err)?.await.map_err(err)?;
    let head: Option<JsValue> = store.get(JsValue::from_str(HEAD)).map_err(err)?.await.map_err(err)?;
    let tuned: Option<JsValue> = store.get(JsValue::from_str(TUNED)).map_err(err)?.await.map_err(err)?;
    let (tuned, problem) = match tuned.map(|v| rmp_serde::from_slice(&js_sys::Uint8Array::new(&v).to_vec())) {
        Some(Ok(t)) => (Some(t), None),
        Some(Err(e)) => (None, Some(err(format!("stored tuned layers unreadable: {e}")))),
        None => (None, None),
    };
    let ws = match ws.and_then(|v| v.as_string()) {
        Some(json) => Some(serde_json::from_str(&json).map_err(|e| err(format!("stored workspace unreadable: {e}")))?),
        None => None,
    };
    Ok(Stored { workspace: ws, head: head.and_then(|v| v.as_string()), tuned, problem })
}

/// Stores the workspace (and the head and tuned layers, when given) in one transaction.
pub async fn save(ws: &Workspace, head: Option<&str>, tuned: Option<&TunedLayers>) -> Result<(), String> {
    let db = open().await?;
    let tx = db.transaction(&[STORE], TransactionMode::ReadWrite).map_err(err)?;
    let store = tx.object_store(STORE).map_err(err)?;
    let json = serde_json::to_string(ws).map_err(err)?;
    store.put(&JsValue::from_str(&json), Some(&JsValue::from_str(WORKSPACE))).map_err(err)?.await.map_err(err)?;
    if let Some(h) = head {
        store.put(&JsValue::from_str(h), Some(&JsValue::from_str(HEAD))).map_err(err)?.await.map_err(err)?;
    }
    if let Some(t) = tuned {
        let bytes = rmp_serde::to_vec_named(t).map_err(err)?;
        let value = js_sys::Uint8Array::from(bytes.as_slice());
        store.put(&value, Some(&JsValue::from_str(TUNED))).map_err(err)?.await.map_err(err)?;
    }
    tx.commit().map_err(err)?.await.map_err(err)?;
    Ok(())
}
