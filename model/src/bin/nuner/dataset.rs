//! Reading annotated files and computing their word features, with a disk cache, for the
//! `finetune`, `eval` and `experiment` commands.

use anyhow::{Context, Result};
use burn::prelude::Device;
use nuner::data::{detect_format, read_examples, ConllOptions, Example, Format, LabelColumn, Scheme};
use nuner::heads::{FeatureConfig, WordFeatures};
use nuner::tokenize::words::Segmentation;
use nuner::Pretrained;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::progress::bar;

/// Format names accepted by `--format`.
pub const FORMATS: [&str; 6] = ["auto", "conll", "iob1", "iob2", "jsonl", "gliner"];

/// Options shared by commands that read annotated files.
#[derive(clap::Args, Clone)]
pub struct DataArgs {
    /// File format: auto (detected from the content), conll (scheme detected), iob1, iob2,
    /// jsonl ({"text","spans"} lines) or gliner.
    #[arg(long, default_value = "auto", value_parser = FORMATS)]
    pub format: String,
    /// Skip malformed sentences/lines with a counted warning instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Feature cache directory (default: $XDG_CACHE_HOME/nuner or ~/.cache/nuner).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Do not read or write the feature cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Threads for the encoder (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Examples of a file and how its text is cut into words.
pub struct Dataset {
    pub name: String,
    pub examples: Vec<Example>,
    pub segmentation: Segmentation,
    bytes_hash: String,
}

impl DataArgs {
    pub fn read(&self, path: &Path) -> Result<Dataset> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let format = match self.format.as_str() {
            "auto" => detect_format(&bytes, &name),
            "conll" => Format::Conll(ConllOptions::default()),
            "iob1" => Format::Conll(ConllOptions { scheme: Scheme::Iob1, label: LabelColumn::Auto }),
            "iob2" => Format::Conll(ConllOptions { scheme: Scheme::Iob2, label: LabelColumn::Auto }),
            "jsonl" => Format::Jsonl,
            _ => Format::Gliner,
        };
        let outcome = read_examples(&bytes, &name, format, self.lenient)?;
        if !outcome.warnings.is_empty() {
            eprintln!("{}: {} warning(s); first: {}", name, outcome.warnings.len(), outcome.warnings[0]);
        }
        // Pre-tokenized formats keep their words (the protocol scores them); raw text is cut at
        // Unicode word boundaries.
        let segmentation = match format {
            Format::Jsonl => Segmentation::Unicode,
            _ => Segmentation::Whitespace,
        };
        Ok(Dataset { name, examples: outcome.examples, segmentation, bytes_hash: hex(&Sha256::digest(&bytes)) })
    }

    fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        self.cache.clone().or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(base.join("nuner"))
        })
    }

    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Word features of every example (from the cache when the same model, recipe, precision and
    /// file were seen before).
    pub fn features(&self, data: &Dataset, model: &Pretrained, config: &FeatureConfig, device: &Device) -> Result<Vec<WordFeatures>> {
        let recipe = (&model.fingerprint, config, data.segmentation, &data.bytes_hash, self.lenient);
        // 8-bit features are keyed apart; f32 keys stay as they were.
        let key = hex(&Sha256::digest(if nuner::encoder::kernels::int8() {
            serde_json::to_vec(&(recipe, "int8"))?
        } else {
            serde_json::to_vec(&recipe)?
        }));
        let file = self.cache_dir().map(|d| d.join("features").join(format!("{}.safetensors", &key[..32])));
        if let Some(f) = &file {
            if let Ok(bytes) = std::fs::read(f) {
                if let Some(features) = decode(&bytes, data.examples.len()) {
                    return Ok(features);
                }
            }
        }
        let texts: Vec<&str> = data.examples.iter().map(|e| e.text.as_str()).collect();
        let pb = bar(texts.len() as u64, format!("features {}", short(&data.name)));
        let features = nuner::pipeline::features_parallel(model, &texts, data.segmentation, config, device, self.threads(), &|done, _| {
            pb.set_position(done as u64)
        })?;
        pb.finish_and_clear();
        if let Some(f) = &file {
            std::fs::create_dir_all(f.parent().expect("has a parent"))?;
            let tmp = f.with_extension("partial");
            std::fs::write(&tmp, encode(&features)?)?;
            std::fs::rename(&tmp, f)?;
        }
        Ok(features)
    }
}

fn short(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encode(features: &[WordFeatures]) -> Result<Vec<u8>> {
    use safetensors::tensor::TensorView;
    use safetensors::Dtype;
    let dim = features.first().map_or(0, |f| f.dim);
    let values: Vec<u8> = features.iter().flat_map(|f| f.values.iter().flat_map(|v| v.to_le_bytes())).collect();
    let units: Vec<u8> = features.iter().flat_map(|f| f.units.iter().flat_map(|&(s, e)| [s as u64, e as u64])).flat_map(u64::to_le_bytes).collect();
    let counts: Vec<u8> = features.iter().flat_map(|f| (f.units.len() as u64).to_le_bytes()).collect();
    let rows = units.len() / 16;
    let views = vec![
        ("values", TensorView::new(Dtype::F32, vec![rows, dim], &values)?),
        ("units", TensorView::new(Dtype::U64, vec![rows, 2], &units)?),
        ("counts", TensorView::new(Dtype::U64, vec![features.len()], &counts)?),
    ];
    Ok(safetensors::serialize(views, None)?)
}

fn decode(bytes: &[u8], expected: usize) -> Option<Vec<WordFeatures>> {
    let st = safetensors::SafeTensors::deserialize(bytes).ok()?;
    let values = st.tensor("values").ok()?;
    let dim = *values.shape().get(1)?;
    let values: Vec<f32> = values.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    let u64s = |name: &str| -> Option<Vec<u64>> {
        Some(st.tensor(name).ok()?.data().chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().unwrap())).collect())
    };
    let units = u64s("units")?;
    let counts = u64s("counts")?;
    if counts.len() != expected {
        return None;
    }
    let mut out = Vec::with_capacity(expected);
    let mut row = 0usize;
    for c in counts {
        let c = c as usize;
        out.push(WordFeatures {
            units: (row..row + c).map(|r| (units[2 * r] as usize, units[2 * r + 1] as usize)).collect(),
            dim,
            values: values.get(row * dim..(row + c) * dim)?.to_vec(),
        });
        row += c;
    }
    Some(out)
}
