//! Weights in and out: Hugging Face checkpoints (safetensors, `pytorch_model.bin`) into our
//! encoder, and our own burnpack form (f32 or f16) for the browser and the CLI.
//!
//! Loading takes bytes (except `pytorch_model.bin`, which burn-store reads from a path), so the
//! same code serves wasm and native. Every tensor must be accounted for: a missing, unexpected or
//! mis-shaped tensor is an error that names it, in Hugging Face's spelling.
//!
//! # Hugging Face → ours (the one table; `N` is a layer index)
//!
//! | Hugging Face (`bert.` / `roberta.` prefix optional)  | ours                              |
//! |------------------------------------------------------|-----------------------------------|
//! | `embeddings.word_embeddings.weight`                  | `embeddings.word_embeddings.weight` |
//! | `embeddings.position_embeddings.weight`              | `embeddings.position_embeddings.weight` |
//! | `embeddings.token_type_embeddings.weight`            | `embeddings.token_type_embeddings.weight` |
//! | `embeddings.LayerNorm.{weight,bias}`                 | `embeddings.layer_norm.{gamma,beta}` |
//! | `encoder.layer.N.attention.self.{query,key,value}.*` | `layers.N.attention.{query,key,value}.*` |
//! | `encoder.layer.N.attention.output.dense.*`           | `layers.N.attention.output.*`     |
//! | `encoder.layer.N.attention.output.LayerNorm.*`       | `layers.N.attention_norm.*`       |
//! | `encoder.layer.N.intermediate.dense.*`               | `layers.N.intermediate.*`         |
//! | `encoder.layer.N.output.dense.*`                     | `layers.N.output.*`               |
//! | `encoder.layer.N.output.LayerNorm.*`                 | `layers.N.output_norm.*`          |
//!
//! Linear weights are transposed (PyTorch `[out, in]`, Burn `[in, out]`) and LayerNorm
//! `weight/bias` become `gamma/beta` by burn-store's `PyTorchToBurnAdapter`.
//! Ignored, because the encoder does not use them: buffers (`embeddings.position_ids`,
//! `embeddings.token_type_ids`), the pooler (`pooler.*`) and pre-training heads (`lm_head.*`,
//! `cls.*`).

use burn::store::{
    ApplyResult, BurnToPyTorchAdapter, BurnpackStore, FloatCastAdapter, HalfPrecisionAdapter, KeyRemapper,
    ModuleAdapter, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::store::burn_pack::Tensor as PackTensor;
use burn::tensor::{DType, TensorData};
use regex::Regex;
use std::sync::OnceLock;

use crate::encoder::Encoder;
use crate::error::{ModelError, Result};

/// The mapping table above, as (Hugging Face, ours) patterns; `{N}` is a layer index.
pub const HF_TO_OURS: &[(&str, &str)] = &[
    ("embeddings.LayerNorm.", "embeddings.layer_norm."),
    ("encoder.layer.{N}.attention.self.query.", "layers.{N}.attention.query."),
    ("encoder.layer.{N}.attention.self.key.", "layers.{N}.attention.key."),
    ("encoder.layer.{N}.attention.self.value.", "layers.{N}.attention.value."),
    ("encoder.layer.{N}.attention.output.dense.", "layers.{N}.attention.output."),
    ("encoder.layer.{N}.attention.output.LayerNorm.", "layers.{N}.attention_norm."),
    ("encoder.layer.{N}.intermediate.dense.", "layers.{N}.intermediate."),
    ("encoder.layer.{N}.output.dense.", "layers.{N}.output."),
    ("encoder.layer.{N}.output.LayerNorm.", "layers.{N}.output_norm."),
];

/// Hugging Face tensors that are deliberately not loaded.
const HF_IGNORED: &str = r"^(embeddings\.(position_ids|token_type_ids)$|pooler\.|lm_head\.|cls\.)";

struct Rules {
    to_ours: Vec<(Regex, String)>,
    to_hf: Vec<(Regex, String)>,
    ignored: Regex,
    prefix: Regex,
}

fn pattern(from: &str, to: &str) -> (Regex, String) {
    let re = format!("^{}", regex::escape(from).replace(r"\{N\}", r"(\d+)"));
    (Regex::new(&re).expect("valid pattern"), to.replace("{N}", "${1}"))
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules {
        to_ours: HF_TO_OURS.iter().map(|(hf, ours)| pattern(hf, ours)).collect(),
        to_hf: HF_TO_OURS.iter().map(|(hf, ours)| pattern(ours, hf)).collect(),
        ignored: Regex::new(HF_IGNORED).expect("valid pattern"),
        prefix: Regex::new(r"^(bert|roberta)\.").expect("valid pattern"),
    })
}

fn rewrite(name: &str, table: &[(Regex, String)]) -> String {
    for (re, to) in table {
        if re.is_match(name) {
            return re.replace(name, to.as_str()).into_owned();
        }
    }
    name.to_string()
}

/// Maps a Hugging Face tensor name to ours; `None` for tensors we deliberately skip.
pub fn hf_to_ours(name: &str) -> Option<String> {
    let r = rules();
    let name = r.prefix.replace(name, "");
    if r.ignored.is_match(&name) {
        return None;
    }
    Some(rewrite(&name, &r.to_ours))
}

/// Maps one of our parameter paths back to the Hugging Face name (for error messages).
pub fn ours_to_hf(path: &str) -> String {
    let path = path.replace(".gamma", ".weight").replace(".beta", ".bias");
    rewrite(&path, &rules().to_hf)
}

/// Loads a Hugging Face `model.safetensors` (bytes) into `encoder`. `file` names it in errors.
/// Returns the weights' [`fingerprint`].
pub fn load_hf_safetensors(encoder: &mut Encoder, bytes: Vec<u8>, file: &str) -> Result<String> {
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    let tensors = read_all(&mut store, file)?;
    apply_hf(encoder, tensors, file)
}

/// Loads a Hugging Face `pytorch_model.bin` (a torch pickle zip) into `encoder`.
#[cfg(feature = "pytorch")]
pub fn load_hf_pytorch(encoder: &mut Encoder, path: &std::path::Path) -> Result<String> {
    let file = path.display().to_string();
    let mut store = burn::store::PytorchStore::from_file(path);
    let tensors = read_all(&mut store, &file)?;
    apply_hf(encoder, tensors, &file)
}

pub(crate) fn read_all<S: ModuleStore>(store: &mut S, file: &str) -> Result<Vec<PackTensor>> {
    let all = store
        .get_all_tensors()
        .map_err(|e| ModelError::weights(file, format!("cannot read tensors: {e}")))?;
    if all.is_empty() {
        return Err(ModelError::weights(file, "the file holds no tensors"));
    }
    Ok(all.values().cloned().collect())
}

fn apply_hf(encoder: &mut Encoder, tensors: Vec<PackTensor>, file: &str) -> Result<String> {
    let renamed: Vec<PackTensor> = tensors
        .into_iter()
        .filter_map(|mut t| {
            let ours = hf_to_ours(&t.name)?;
            t.name = ours;
            Some(t)
        })
        .collect();
    let print = fingerprint(&renamed, file)?;
    let adapter = PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32));
    let result = encoder.apply(renamed, None, Some(Box::new(adapter)), false);
    check(result, file, ours_to_hf)?;
    Ok(print)
}

/// Tensor whose values identify a checkpoint's bottom (see [`fingerprint`]).
const FINGERPRINT_TENSOR: &str = "embeddings.word_embeddings.weight";
/// Values of the word embeddings that enter the fingerprint.
const FINGERPRINT_VALUES: usize = 8192;

/// f16 bytes of `values`, as the fingerprint hashes them.
fn f16_bytes(values: Vec<f32>) -> Vec<u8> {
    let n = values.len();
    TensorData::new(values, [n]).convert_dtype(DType::F16).as_bytes().to_vec()
}

/// Hashes the fingerprint's parts: word embeddings, top layer's output LayerNorm scale and shift.
fn fingerprint_of(parts: [Vec<u8>; 3]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(&p);
    }
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// A short identity of an encoder's weights: sha256 of the first 8,192 word-embedding values and
/// of the top layer's output LayerNorm (scale and shift), rounded to f16 so that a checkpoint and
/// its f16 conversion have the same fingerprint. These tensors have the same layout in Hugging
/// Face files and in ours. The top layer is there because pre-training and `finetune --unfreeze`
/// leave the embeddings frozen and always move it. Saved heads record the fingerprint to refuse
/// being applied to another encoder. `tensors` carry our names (LayerNorm parameters named
/// `weight`/`bias` before the adapter, `gamma`/`beta` in our files).
pub fn fingerprint(tensors: &[PackTensor], file: &str) -> Result<String> {
    let read = |names: &[String]| -> Result<Vec<f32>> {
        let t = tensors
            .iter()
            .find(|t| names.contains(&t.name))
            .ok_or_else(|| ModelError::weights(file, format!("missing tensor `{}`", ours_to_hf(&names[0]))))?;
        let data = burn::store::bridge::to_data(t)
            .map_err(|e| ModelError::weights(file, format!("cannot read `{}`: {e:?}", ours_to_hf(&names[0]))))?
            .convert_dtype(DType::F32);
        data.try_into_vec::<f32>().map_err(|e| ModelError::weights(file, format!("cannot read `{}`: {e:?}", ours_to_hf(&names[0]))))
    };
    let top = tensors
        .iter()
        .filter_map(|t| t.name.strip_prefix("layers.")?.split_once(".output_norm.")?.0.parse::<usize>().ok())
        .max()
        .ok_or_else(|| ModelError::weights(file, "no transformer layer (`encoder.layer.N.output.LayerNorm`)"))?;
    let norm = |a: &str, b: &str| [format!("layers.{top}.output_norm.{a}"), format!("layers.{top}.output_norm.{b}")];
    let mut embeddings = read(&[FINGERPRINT_TENSOR.to_string()])?;
    embeddings.truncate(FINGERPRINT_VALUES);
    Ok(fingerprint_of([f16_bytes(embeddings), f16_bytes(read(&norm("weight", "gamma"))?), f16_bytes(read(&norm("bias", "beta"))?)]))
}

/// [`fingerprint`] of an encoder in memory (after fine-tuning in the browser, say); reads back
/// asynchronously, as WebGPU requires.
pub async fn encoder_fingerprint(encoder: &Encoder) -> Result<String> {
    let [vocab, hidden] = encoder.embeddings.word_embeddings.weight.dims();
    let rows = FINGERPRINT_VALUES.div_ceil(hidden).min(vocab);
    let mut embeddings = crate::embed::read_f32(encoder.embeddings.word_embeddings.weight.val().slice([0..rows, 0..hidden])).await?;
    embeddings.truncate(FINGERPRINT_VALUES);
    let top = encoder.layers.last().ok_or_else(|| ModelError::Invalid("an encoder without layers".into()))?;
    let gamma = crate::embed::read_f32(top.output_norm.gamma.val()).await?;
    let beta = match &top.output_norm.beta {
        Some(b) => crate::embed::read_f32(b.val()).await?,
        None => vec![0.0; gamma.len()],
    };
    Ok(fingerprint_of([f16_bytes(embeddings), f16_bytes(gamma), f16_bytes(beta)]))
}

/// Serialises `encoder` as a Hugging Face `model.safetensors` (f32): the table above read right
/// to left, Linear weights transposed back to `[out, in]` and LayerNorm `gamma/beta` named
/// `weight/bias` by burn-store's `BurnToPyTorchAdapter`; no `bert.`/`roberta.` prefix (as
/// `BertModel.save_pretrained` writes). [`load_hf_safetensors`] reads it back exactly.
pub fn save_hf_safetensors(encoder: &Encoder) -> Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .remap(KeyRemapper::from_compiled_patterns(rules().to_hf.clone()));
    encoder
        .save_into(&mut store)
        .map_err(|e| ModelError::weights("model.safetensors", format!("cannot serialise: {e}")))?;
    store.get_bytes().map_err(|e| ModelError::weights("model.safetensors", format!("cannot serialise: {e}")))
}

/// Serialises `encoder` as burnpack bytes; `half` stores floats as f16 (half the size).
pub fn save_burnpack(encoder: &Encoder, half: bool) -> Result<Vec<u8>> {
    let mut store = BurnpackStore::from_bytes(None);
    if half {
        store = store.with_to_adapter(HalfPrecisionAdapter::new());
    }
    encoder
        .save_into(&mut store)
        .map_err(|e| ModelError::weights("model.bpk", format!("cannot serialise: {e}")))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| ModelError::weights("model.bpk", format!("cannot serialise: {e}")))?;
    Ok(bytes.to_vec())
}

/// Loads burnpack bytes written by [`save_burnpack`] (f32 or f16) into `encoder`, as f32.
/// Returns the weights' [`fingerprint`].
pub fn load_burnpack(encoder: &mut Encoder, bytes: Vec<u8>, file: &str) -> Result<String> {
    let mut store = BurnpackStore::from_bytes(Some(burn::tensor::Bytes::from_bytes_vec(bytes)));
    let tensors = read_all(&mut store, file)?;
    let print = fingerprint(&tensors, file)?;
    let result = encoder.apply(tensors, None, Some(Box::new(FloatCastAdapter::to(DType::F32))), false);
    check(result, file, |p| p.to_string())?;
    Ok(print)
}

pub(crate) fn check(result: ApplyResult, file: &str, name: impl Fn(&str) -> String) -> Result<()> {
    let mut problems = Vec::new();
    for e in &result.errors {
        problems.push(match e {
            burn::store::ApplyError::ShapeMismatch { path, expected, found } => format!(
                "tensor `{}` has shape {:?}, the config needs {:?}",
                name(path),
                found.as_slice(),
                expected.as_slice()
            ),
            other => format!("{other}"),
        });
    }
    for (path, _) in &result.missing {
        problems.push(format!("missing tensor `{}`", name(path)));
    }
    for path in &result.unused {
        problems.push(format!("unexpected tensor `{}`", name(path)));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ModelError::weights(file, problems.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_hf_bert_name_and_back() {
        let cases = [
            ("bert.embeddings.LayerNorm.weight", "embeddings.layer_norm.weight"),
            ("roberta.encoder.layer.11.attention.self.query.bias", "layers.11.attention.query.bias"),
            ("encoder.layer.0.attention.output.dense.weight", "layers.0.attention.output.weight"),
            ("encoder.layer.3.attention.output.LayerNorm.bias", "layers.3.attention_norm.bias"),
            ("encoder.layer.2.intermediate.dense.weight", "layers.2.intermediate.weight"),
            ("encoder.layer.2.output.dense.bias", "layers.2.output.bias"),
            ("encoder.layer.5.output.LayerNorm.weight", "layers.5.output_norm.weight"),
            ("embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight"),
        ];
        for (hf, ours) in cases {
            assert_eq!(hf_to_ours(hf).as_deref(), Some(ours), "{hf}");
            assert_eq!(ours_to_hf(ours), hf.trim_start_matches("bert.").trim_start_matches("roberta."));
        }
        assert_eq!(ours_to_hf("layers.5.output_norm.gamma"), "encoder.layer.5.output.LayerNorm.weight");
    }

    #[test]
    fn skips_buffers_pooler_and_heads_only() {
        for name in ["embeddings.position_ids", "bert.pooler.dense.weight", "lm_head.bias", "cls.predictions.bias"] {
            assert_eq!(hf_to_ours(name), None, "{name}");
        }
        assert!(hf_to_ours("classifier.weight").is_some(), "unknown tensors are kept so they are reported");
    }
}
