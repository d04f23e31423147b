//! The nuner browser app: a Leptos UI on the main thread and the model in a web worker,
//! talking through [`protocol`]. Labels, types and the trained head live in IndexedDB.

//!
//! One crate, two builds (features, see Cargo.toml): the UI's (`ui`) holds the Leptos components
//! and no Burn; the worker's (`model`, with `webgpu` or `threads`) holds the model and no Leptos.
//! The pure parts (protocol, state, files, store) are in both.

// The Leptos UI exists in the browser only (native builds compile and test the pure parts).
#[cfg(all(feature = "ui", target_family = "wasm"))]
pub mod bridge;
#[cfg(all(feature = "ui", target_family = "wasm"))]
pub mod components;
#[cfg(all(feature = "ui", target_family = "wasm"))]
pub mod ctx;
pub mod files;
pub mod launch;
pub mod protocol;
pub mod state;
pub mod store;
#[cfg(feature = "model")]
pub mod worker;
#[cfg(not(feature = "model"))]
#[path = "worker_handle.rs"]
pub mod worker;
