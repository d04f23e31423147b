//! wgpu: the linear layers' matmul, with a kernel chosen by the adapter.
//!
//! Burn 0.22's matmul on wgpu (`MatmulStrategy::Cube`, without the `autotune` feature) asks cubek
//! for `Strategy::Auto`: cooperative-matrix kernels when the adapter has them, otherwise
//! `SimpleUnit`, which tiles through workgroup memory with two barriers per step of k and pads
//! a sentence's rows to 64 or 128. On a software adapter (Mesa's lavapipe, SwiftShader in
//! Chromium: a device that is no card, `DeviceIdentity::physical` is `None`, which a browser
//! reports for its fallback adapter) that runs at ~1.5 GFLOP/s, so there the linear layers of a
//! plain (not autodiff) device run our register-tiled kernel ([`super::tiled`]); on a GPU, Burn's.
//! Natively `NUNER_WGPU_MATMUL` overrides the choice, to measure kernels against each other
//! (`nuner bench --device wgpu`): `burn`, `tiled`, or one of cubek's (`naive`, `unit`, `double`,
//! `auto`). Sources mirrored: burn-cubecl 0.22.1 `kernel/matmul/base.rs` (`launch_matmul`, the
//! non-quantized branch) and cubek-matmul 0.3.1 `strategy.rs`.

#[cfg(not(target_family = "wasm"))]
use std::sync::OnceLock;

use burn::backend::Wgpu;
use burn::prelude::*;
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::matmul::init_matmul_output;
use cubek::matmul::definition::{MatmulElems, MatmulGlobalElems};
use cubek::matmul::launch::launch_ref;
#[cfg(not(target_family = "wasm"))]
use cubek::matmul::multi_level;
use cubek::matmul::strategy::Strategy;
use cubek::std::InputBinding;

/// A matmul kernel for the linear layers (in wasm only `Auto` is built: nothing overrides it).
#[cfg_attr(target_family = "wasm", allow(dead_code))]
enum Picked {
    /// [`Picked::Tiled`] on a software adapter, otherwise [`Picked::Burn`].
    Auto,
    /// Burn's own matmul.
    Burn,
    /// Ours, register-tiled ([`super::tiled`]).
    Tiled,
    /// One of cubek's.
    Cubek(Strategy),
}

impl std::fmt::Debug for Picked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Picked::Cubek(strategy) => write!(f, "cubek {strategy}"),
            Picked::Tiled => f.write_str("tiled"),
            Picked::Burn => f.write_str("burn"),
            Picked::Auto => f.write_str("auto"),
        }
    }
}

/// The kernel `NUNER_WGPU_MATMUL` picks, read once (natively); `None`: the adapter decides.
///
/// # Panics
/// On any other value than the six names: a misspelt name must not quietly measure another kernel.
fn forced() -> Option<&'static Picked> {
    #[cfg(not(target_family = "wasm"))]
    {
        static PICKED: OnceLock<Option<Picked>> = OnceLock::new();
        PICKED.get_or_init(|| parse(&std::env::var("NUNER_WGPU_MATMUL").ok()?).unwrap_or_else(|e| panic!("{e}"))).as_ref()
    }
    #[cfg(target_family = "wasm")]
    None
}

/// A `NUNER_WGPU_MATMUL` value as a kernel.
#[cfg(not(target_family = "wasm"))]
fn parse(name: &str) -> Result<Option<Picked>, String> {
    Ok(Some(Picked::Cubek(match name {
        "" => return Ok(None),
        "burn" => return Ok(Some(Picked::Burn)),
        "tiled" => return Ok(Some(Picked::Tiled)),
        "naive" => multi_level::Strategy::Naive.into(),
        "unit" => multi_level::Strategy::SimpleUnit(Default::default()).into(),
        "double" => multi_level::Strategy::DoubleUnit(Default::default()).into(),
        "auto" => Strategy::Auto,
        other => return Err(format!("NUNER_WGPU_MATMUL={other:?}: expected burn, tiled, naive, unit, double or auto (or unset)")),
    })))
}

/// `x·w` with the kernel picked for the adapter, or `None` (Burn's matmul then runs) when that
/// is Burn's, the tensors are not plain wgpu tensors, or the kernel declines the problem.
///
/// # Shapes
/// - `x`: `[rows, in]`; `w`: `[in, out]`; output: `[rows, out]`
pub fn matmul(x: &Tensor<2>, w: &Tensor<2>) -> Option<Tensor<2>> {
    matmul_with(forced().unwrap_or(&Picked::Auto), x, w)
}

/// [`matmul`] with a given kernel.
fn matmul_with(picked: &Picked, x: &Tensor<2>, w: &Tensor<2>) -> Option<Tensor<2>> {
    let lhs = x.clone().try_into_primitive::<Wgpu>().ok()?;
    let rhs = w.clone().try_into_primitive::<Wgpu>().ok()?;
    let strategy = match picked {
        Picked::Burn => return None,
        Picked::Auto if !is_software(&lhs) => return None,
        Picked::Auto | Picked::Tiled => return super::tiled::matmul(lhs, rhs).map(Tensor::from_primitive::<Wgpu>),
        Picked::Cubek(strategy) => strategy,
    };
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

/// Whether `x` lives on an adapter that is no card (one that runs its shaders on the CPU).
fn is_software(x: &burn_cubecl::tensor::CubeTensor) -> bool {
    x.client.properties().identity.physical.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kernel_names_are_refused_by_name() {
        let e = parse("navie").err().expect("a misspelt name was accepted");
        assert!(e.contains("NUNER_WGPU_MATMUL=\"navie\"") && e.contains("tiled, naive, unit, double or auto"), "{e}");
        assert!(parse("").unwrap().is_none());
        assert!(parse("unit").unwrap().is_some());
        assert!(matches!(parse("tiled"), Ok(Some(Picked::Tiled))));
        assert!(matches!(parse("burn"), Ok(Some(Picked::Burn))));
    }

    /// Every kernel gives Burn's product, on rows and columns that fill no tile exactly and on
    /// more than one workgroup; lavapipe counts as a software adapter, so `Auto` runs the tiled
    /// kernel there, in `vec4`s or, for widths that are no multiple of 4 (a head's 9 tags), in
    /// scalars, and on transposed views; autodiff tensors are declined (their gradients stay Burn's).
    #[test]
    fn picked_kernels_match_burns_matmul_on_wgpu() {
        let Ok(device) = crate::device::select_device("wgpu") else {
            panic!("no wgpu adapter: install a Vulkan driver (CI: apt-get install mesa-vulkan-drivers)");
        };
        let matrix = |rows: usize, cols: usize, seed: usize| {
            let values = (0..rows * cols).map(|i| ((i * seed % 101) as f32 - 50.0) / 50.0).collect();
            Tensor::<2>::from_data(TensorData::new(values, [rows, cols]), &device)
        };
        let kernels = [
            Picked::Auto,
            Picked::Tiled,
            Picked::Cubek(multi_level::Strategy::Naive.into()),
            Picked::Cubek(multi_level::Strategy::SimpleUnit(Default::default()).into()),
            Picked::Cubek(multi_level::Strategy::DoubleUnit(Default::default()).into()),
            Picked::Cubek(Strategy::Auto),
        ];
        for (m, k, n) in [(19, 40, 28), (70, 64, 136), (45, 30, 9)] {
            let (x, w) = (matrix(m, k, 37), matrix(k, n, 53));
            assert!(is_software(&x.clone().try_into_primitive::<Wgpu>().unwrap()), "lavapipe is not seen as a software adapter");
            let want: Vec<f32> = x.clone().matmul(w.clone()).into_data().try_into_vec::<f32>().unwrap();
            for strategy in &kernels {
                let got: Vec<f32> = matmul_with(strategy, &x, &w).unwrap_or_else(|| panic!("{strategy:?} declined")).into_data().try_into_vec::<f32>().unwrap();
                let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
                assert!(worst < 1e-4, "{strategy:?} on {m}x{k}x{n}: max |diff| {worst}");
            }
        }
        // xᵀ·g as a head's weight gradient reads it: a transposed view, 9 columns.
        let (x, g) = (matrix(50, 24, 11), matrix(50, 9, 13));
        let want: Vec<f32> = x.clone().transpose().matmul(g.clone()).into_data().try_into_vec::<f32>().unwrap();
        let got: Vec<f32> = matmul_with(&Picked::Tiled, &x.transpose(), &g).expect("tiled declined").into_data().try_into_vec::<f32>().unwrap();
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "tiled xᵀ·g: max |diff| {worst}");
        assert!(matmul_with(&Picked::Burn, &matrix(5, 8, 3), &matrix(8, 8, 7)).is_none());
        let tracked = Tensor::<2>::from_data(matrix(19, 40, 37).to_data(), &device.clone().autodiff()).require_grad();
        assert!(matmul_with(&Picked::Auto, &tracked, &matrix(40, 28, 53)).is_none(), "an autodiff tensor took the custom kernel");
    }
}
