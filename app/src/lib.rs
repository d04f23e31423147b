//! The nuner browser app: a Leptos UI on the main thread and the model in a web worker,
//! talking through [`protocol`]. Labels, types and the trained head live in IndexedDB.

pub mod bridge;
pub mod components;
pub mod ctx;
pub mod files;
pub mod launch;
pub mod protocol;
pub mod state;
pub mod store;
pub mod worker;
