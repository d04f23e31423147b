//! The nuner browser app: a Leptos UI on the main thread and the model in a web worker,
//! talking through [`protocol`]. Labels, types and the trained head live in IndexedDB.

// The Leptos UI exists in the browser only (native builds compile and test the pure parts).
#[cfg(target_family = "wasm")]
pub mod bridge;
#[cfg(target_family = "wasm")]
pub mod components;
#[cfg(target_family = "wasm")]
pub mod ctx;
pub mod files;
pub mod launch;
pub mod protocol;
pub mod state;
pub mod store;
pub mod worker;
