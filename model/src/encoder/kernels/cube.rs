//! wgpu: the linear layers' matmul with a CubeCL kernel chosen by us, not Burn's default.
//!
//! Burn 0.22's matmul on wgpu (`MatmulStrategy::Cube`, without the `autotune` feature) asks cubek
//! for `Strategy::Auto`: cooperative-matrix kernels when the adapter has them, otherwise
//! `SimpleUnit`, which tiles through workgroup memory with two barriers per step of k and pads
//! a sentence's rows to 64 or 128. On a software adapter (Mesa's lavapipe, SwiftShader in
//! headless Chromium) barriers are expensive and few workgroups run. `NUNER_WGPU_MATMUL`
//! (`naive`, `unit`, `double`) picks another cubek kernel for the linear layers of a plain (not
//! autodiff) wgpu device, to measure them (`nuner bench --device wgpu`); unset, nothing changes.
//! Sources mirrored: burn-cubecl 0.22.1 `kernel/matmul/base.rs` (`launch_matmul`, the
//! non-quantized branch) and cubek-matmul 0.3.1 `strategy.rs`.

use std::sync::OnceLock;

use burn::backend::Wgpu;
use burn::prelude::*;
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::matmul::init_matmul_output;
use cubek::matmul::definition::{MatmulElems, MatmulGlobalElems};
use cubek::matmul::launch::launch_ref;
use cubek::matmul::multi_level;
use cubek::matmul::strategy::Strategy;
use cubek::std::InputBinding;

/// The kernel picked by `NUNER_WGPU_MATMUL`, read once; `None`: Burn's own matmul.
///
/// # Panics
/// On any other value than the four names: a misspelt name must not quietly measure Burn's kernel.
fn strategy() -> Option<&'static Strategy> {
    static PICKED: OnceLock<Option<Strategy>> = OnceLock::new();
    PICKED.get_or_init(|| parse(&std::env::var("NUNER_WGPU_MATMUL").ok()?).unwrap_or_else(|e| panic!("{e}"))).as_ref()
}

/// A `NUNER_WGPU_MATMUL` value as a kernel.
fn parse(name: &str) -> Result<Option<Strategy>, String> {
    Ok(Some(match name {
        "" => return Ok(None),
        "naive" => multi_level::Strategy::Naive.into(),
        "unit" => multi_level::Strategy::SimpleUnit(Default::default()).into(),
        "double" => multi_level::Strategy::DoubleUnit(Default::default()).into(),
        "auto" => Strategy::Auto,
        other => return Err(format!("NUNER_WGPU_MATMUL={other:?}: expected naive, unit, double or auto (or unset)")),
    }))
}

/// `x·w` with the picked kernel, or `None` (Burn's matmul then runs) when no kernel is picked,
/// the tensors are not plain wgpu tensors, or the kernel declines the problem.
///
/// # Shapes
/// - `x`: `[rows, in]`; `w`: `[in, out]`; output: `[rows, out]`
pub fn matmul(x: &Tensor<2>, w: &Tensor<2>) -> Option<Tensor<2>> {
    matmul_with(strategy()?, x, w)
}

/// [`matmul`] with a given kernel.
fn matmul_with(strategy: &Strategy, x: &Tensor<2>, w: &Tensor<2>) -> Option<Tensor<2>> {
    let lhs = x.clone().try_into_primitive::<Wgpu>().ok()?;
    let rhs = w.clone().try_into_primitive::<Wgpu>().ok()?;
    let dtype = lhs.dtype;
    let out = init_matmul_output(&lhs, &rhs, dtype);
    let storage = dtype_to_storage_type(dtype);
    let mut elems = MatmulElems::from_globals(&MatmulGlobalElems { lhs: storage, rhs: storage, out: storage });
    launch_ref(
        strategy,
        &out.client,
        InputBinding::new(lhs.binding(), storage),
        InputBinding::new(rhs.binding(), storage),
        out.clone().binding(),
        &mut elems,
    )
    .ok()?;
    Some(Tensor::from_primitive::<Wgpu>(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kernel_names_are_refused_by_name() {
        let e = parse("navie").err().expect("a misspelt name was accepted");
        assert!(e.contains("NUNER_WGPU_MATMUL=\"navie\"") && e.contains("naive, unit, double or auto"), "{e}");
        assert!(parse("").unwrap().is_none());
        assert!(parse("unit").unwrap().is_some());
    }

    /// Every kernel gives Burn's product, on rows that fill no tile exactly, and declines
    /// autodiff tensors (whose gradients must stay Burn's).
    #[test]
    fn picked_kernels_match_burns_matmul_on_wgpu() {
        let Ok(device) = crate::device::select_device("wgpu") else {
            panic!("no wgpu adapter: install a Vulkan driver (CI: apt-get install mesa-vulkan-drivers)");
        };
        let (m, k, n) = (19, 40, 24);
        let x = Tensor::<2>::from_data(TensorData::new((0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect(), [m, k]), &device);
        let w = Tensor::<2>::from_data(TensorData::new((0..k * n).map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0).collect(), [k, n]), &device);
        let want: Vec<f32> = x.clone().matmul(w.clone()).into_data().try_into_vec::<f32>().unwrap();
        let kernels: [Strategy; 4] = [
            multi_level::Strategy::Naive.into(),
            multi_level::Strategy::SimpleUnit(Default::default()).into(),
            multi_level::Strategy::DoubleUnit(Default::default()).into(),
            Strategy::Auto,
        ];
        for strategy in &kernels {
            let got: Vec<f32> = matmul_with(strategy, &x, &w).unwrap_or_else(|| panic!("{strategy} declined")).into_data().try_into_vec::<f32>().unwrap();
            let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "{strategy}: max |diff| {worst}");
        }
        let tracked = Tensor::<2>::from_data(x.to_data(), &device.autodiff()).require_grad();
        assert!(matmul_with(&kernels[0], &tracked, &w).is_none(), "an autodiff tensor took the custom kernel");
    }
}
