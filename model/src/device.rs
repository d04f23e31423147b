//! Device names for command-line tools: the one place a backend is chosen natively.

use burn::prelude::*;

use crate::error::{ModelError, Result};

/// Backends compiled into this build, in the order `auto` prefers them.
pub fn available() -> Vec<&'static str> {
    let mut v = Vec::new();
    if cfg!(feature = "wgpu") {
        v.push("wgpu");
    }
    if cfg!(feature = "flex") {
        v.push("flex");
    }
    if cfg!(feature = "ndarray") {
        v.push("ndarray");
    }
    v
}

/// Picks a device by name: `flex` (pure-Rust CPU, the default), `wgpu` (Vulkan, Metal, DX12 or
/// GL through wgpu; needs the `wgpu` feature), `wgpu:N` (the N-th discrete GPU), `ndarray` (needs
/// the `ndarray` feature).
pub fn select_device(name: &str) -> Result<Device> {
    let unavailable = |reason: String| ModelError::Device { name: name.to_string(), reason };
    match name {
        #[cfg(feature = "flex")]
        "flex" | "cpu" => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        "wgpu" | "gpu" => wgpu_device().map_err(unavailable),
        // The n-th discrete GPU, for data-parallel runs (`devices = ["wgpu:0", "wgpu:1"]`).
        #[cfg(feature = "wgpu")]
        _ if name.starts_with("wgpu:") => match name["wgpu:".len()..].parse::<usize>() {
            Ok(n) => Ok(Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(n))),
            Err(_) => Err(unavailable("expected wgpu:N with N the discrete GPU's index".into())),
        },
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Ok(Device::ndarray()),
        _ => Err(unavailable(format!("this build has: {}", available().join(", ")))),
    }
}

/// The wgpu device, initialised once per process (a second `init` is refused by wgpu's runtime).
#[cfg(feature = "wgpu")]
fn wgpu_device() -> std::result::Result<Device, String> {
    static DEVICE: std::sync::OnceLock<std::result::Result<Device, String>> = std::sync::OnceLock::new();
    DEVICE.get_or_init(|| Device::wgpu_options().init().map_err(|e| format!("{e:?}"))).clone()
}
