//! The top layers of a fine-tuned encoder as one small file (`finetune --unfreeze N` in the
//! browser): a burnpack of layers `0..N` (bottom first) that replace the top N layers of the
//! encoder they were tuned from. All-MiniLM's two top layers are 14 MB in f32, against 90 MB
//! for the whole encoder, which is what the browser keeps in IndexedDB.
//!
//! Saving reads every parameter back asynchronously (WebGPU cannot read back synchronously in
//! wasm) into a copy on the CPU backend, which burn-store then serialises.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::TensorData;

use crate::embed::read_f32;
use crate::encoder::{Encoder, EncoderLayer};
use crate::error::{ModelError, Result};
use crate::weights::{check, read_all};

/// The saved module: the tuned layers, bottom first.
#[derive(Module, Debug)]
struct TopLayers {
    layers: Vec<EncoderLayer>,
}

/// Collects every float parameter, flattened, in visiting order.
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

/// Replaces every float parameter, in visiting order, by host values of the same shape.
struct Fill {
    values: std::vec::IntoIter<Vec<f32>>,
    device: Device,
}

impl ModuleMapper for Fill {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let values = self.values.next().expect("one readback per parameter");
        let host = Tensor::<1>::from_data(TensorData::new(values, [shape.num_elements()]), &self.device).reshape(shape);
        Param::from_mapped_value(id, host, mapper)
    }
}

/// The top `n` layers of `encoder` as burnpack bytes (f32).
pub async fn save_top_layers(encoder: &Encoder, n: usize) -> Result<Vec<u8>> {
    let l = encoder.num_layers();
    if n == 0 || n > l {
        return Err(ModelError::Invalid(format!("can save 1 to {l} top layers, not {n}")));
    }
    let top = TopLayers { layers: encoder.layers[l - n..].to_vec() };
    let mut collect = Collect(Vec::new());
    top.visit(&mut collect);
    let mut values = Vec::with_capacity(collect.0.len());
    for t in collect.0 {
        values.push(read_f32(t).await?);
    }
    let host = top.map(&mut Fill { values: values.into_iter(), device: Device::flex() });
    let err = |e: String| ModelError::weights("tuned layers", format!("cannot serialise: {e}"));
    let mut store = BurnpackStore::from_bytes(None);
    host.save_into(&mut store).map_err(|e| err(e.to_string()))?;
    Ok(store.get_bytes().map_err(|e| err(e.to_string()))?.to_vec())
}

/// Replaces the top layers of `encoder` by those of `bytes` ([`save_top_layers`]); returns how
/// many. `file` names the bytes in errors.
pub fn load_top_layers(encoder: &mut Encoder, bytes: Vec<u8>, file: &str) -> Result<usize> {
    let mut store = BurnpackStore::from_bytes(Some(burn::tensor::Bytes::from_bytes_vec(bytes)));
    let tensors = read_all(&mut store, file)?;
    let n = tensors
        .iter()
        .filter_map(|t| t.name.strip_prefix("layers.")?.split_once('.')?.0.parse::<usize>().ok())
        .max()
        .map_or(0, |i| i + 1);
    let l = encoder.num_layers();
    if n == 0 || n > l {
        return Err(ModelError::weights(file, format!("holds {n} layers; the encoder has {l}")));
    }
    let mut top = TopLayers { layers: encoder.layers[l - n..].to_vec() };
    let result = top.apply(tensors, None, None, false);
    check(result, file, |p| p.to_string())?;
    encoder.layers.splice(l - n.., top.layers);
    Ok(n)
}
