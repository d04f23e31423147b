//! The nuner browser app: a Leptos UI on the main thread and the model in a web worker,
//! talking through [`protocol`].

pub mod bridge;
pub mod components;
pub mod protocol;
pub mod worker;
