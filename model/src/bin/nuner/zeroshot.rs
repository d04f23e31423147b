//! Zero-shot options shared by `predict` and `eval`: the concept tower that `nuner pretrain`
//! keeps next to the text tower, and the type names to score tokens against.

use anyhow::{bail, Context, Result};
use nuner::pretrain::ZeroShot;
use nuner::Pretrained;
use std::path::{Path, PathBuf};

/// Options of zero-shot tagging.
#[derive(clap::Args, Clone)]
pub struct ZeroShotArgs {
    /// Concept tower directory (default: MODEL/concept_tower, as `nuner pretrain` writes it).
    #[arg(long)]
    pub concepts: Option<PathBuf>,
    /// A word is tagged with its best type when σ(word · type) reaches this.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
}

impl ZeroShotArgs {
    /// Loads both towers.
    pub fn load(&self, model: Pretrained, model_dir: &Path, device: &burn::prelude::Device) -> Result<ZeroShot> {
        let dir = self.concepts.clone().unwrap_or_else(|| model_dir.join("concept_tower"));
        if !dir.is_dir() {
            bail!("{}: no concept tower (zero-shot needs a model made by `nuner pretrain`, or --concepts DIR)", dir.display());
        }
        let concept = Pretrained::from_dir(&dir, device).with_context(|| format!("loading the concept tower {}", dir.display()))?;
        Ok(ZeroShot { text: model, concept })
    }
}

/// "person, city , dish" → ["person", "city", "dish"].
pub fn parse_types(list: &str) -> Result<Vec<String>> {
    let types: Vec<String> = list.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect();
    if types.is_empty() {
        bail!("--types: no type names in {list:?} (give a comma-separated list, e.g. \"person, city\")");
    }
    Ok(types)
}
