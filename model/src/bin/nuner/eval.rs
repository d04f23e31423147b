//! `nuner eval --model DIR --head HEAD --test FILE` — seqeval-strict entity scores and NuNER's
//! token macro F1; the last line of output is one JSON object.

use anyhow::{Context, Result};
use nuner::data::Example;
use nuner::embed::block_on;
use nuner::heads::{SavedHead, WordFeatures};
use nuner::metrics::{entity_report, token_macro_f1, EntityReport, Prf, TokenReport};
use nuner::pipeline::{decode_all, gold_tags, tag_probabilities};
use nuner::Pretrained;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

use crate::dataset::DataArgs;
use crate::progress::spinner;
use crate::zeroshot::ZeroShotArgs;

/// Score a head on a test file: per-type precision/recall/F1, entity micro and macro F1
/// (seqeval strict IOB2) and token macro F1. The last output line is JSON.
///
/// Examples:
///   nuner eval --model public/model --head per.head.json --test conll2003/eng.testb
///   nuner eval --model runs/pretrain --zero-shot --test wnut17/test.conll
#[derive(clap::Args)]
pub struct Args {
    /// Encoder directory.
    #[arg(long)]
    model: PathBuf,
    /// Head file written by `nuner finetune`.
    #[arg(long, required_unless_present = "zero_shot", conflicts_with = "zero_shot")]
    head: Option<PathBuf>,
    /// Zero-shot: tag with the concept tower, one type per label of the test file, named in
    /// plain words (`PER` → "person", `musicalartist` → "musical artist"; see `pool::type_name`).
    #[arg(long)]
    zero_shot: bool,
    #[command(flatten)]
    zs: ZeroShotArgs,
    /// Annotated test file.
    #[arg(long)]
    test: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

pub fn read_head(path: &Path, model: &Pretrained) -> Result<SavedHead> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let head = SavedHead::from_json_bytes(&bytes, &path.display().to_string())?;
    head.check_encoder(model, &path.display().to_string())?;
    if let Some(note) = head.precision_note(model) {
        eprintln!("warning: {}: {note}", path.display());
    }
    Ok(head)
}

/// Scores of a head's predictions on examples whose features are known.
pub struct Scores {
    pub entity: EntityReport,
    pub token: TokenReport,
}

pub fn score(saved: &SavedHead, examples: &[Example], features: &[WordFeatures], device: &burn::prelude::Device) -> Result<Scores> {
    let head = saved.to_head(device);
    let probs = block_on(tag_probabilities(&head, features, device))?;
    let (_, pred) = decode_all(&probs, features, &saved.labels);
    let units: Vec<Vec<(usize, usize)>> = features.iter().map(|f| f.units.clone()).collect();
    let gold = gold_tags(examples, &units);
    Ok(Scores { entity: entity_report(&gold, &pred), token: token_macro_f1(&gold, &pred) })
}

/// Zero-shot scores: every label of the test file becomes a type name; predictions are mapped
/// back to the file's labels and scored on the file's own words.
fn score_zero_shot(z: nuner::pretrain::ZeroShot, data: &crate::dataset::Dataset, threshold: f32, device: &burn::prelude::Device) -> Result<Scores> {
    use nuner::pretrain::pool::type_name;
    let mut labels: Vec<String> = data.examples.iter().flat_map(|e| e.spans.iter().map(|s| s.label.clone())).collect();
    labels.sort();
    labels.dedup();
    let names: Vec<String> = labels.iter().map(|l| type_name(l)).collect();
    eprintln!("zero-shot types: {}", labels.iter().zip(&names).map(|(l, n)| format!("{l} = \"{n}\"")).collect::<Vec<_>>().join(", "));
    let units = nuner::pipeline::units_of(&data.examples, data.segmentation);
    let texts: Vec<&str> = data.examples.iter().map(|e| e.text.as_str()).collect();
    let pb = spinner("tagging");
    let spans = block_on(z.tag_units(&texts, &units, &names, threshold, device))?;
    pb.finish_and_clear();
    let predicted: Vec<Example> = data
        .examples
        .iter()
        .zip(spans)
        .map(|(e, spans)| {
            let spans = spans
                .into_iter()
                .map(|mut s| {
                    let i = names.iter().position(|n| *n == s.label).expect("a predicted type is one of the names");
                    s.label = labels[i].clone();
                    s
                })
                .collect();
            Example::new(e.text.clone(), spans)
        })
        .collect();
    let gold = gold_tags(&data.examples, &units);
    let pred = gold_tags(&predicted, &units);
    Ok(Scores { entity: entity_report(&gold, &pred), token: token_macro_f1(&gold, &pred) })
}

fn prf(p: &Prf) -> Value {
    json!({"precision": p.precision, "recall": p.recall, "f1": p.f1, "support": p.support})
}

pub fn to_json(s: &Scores) -> Value {
    json!({
        "entity_micro_f1": s.entity.micro.f1,
        "entity_macro_f1": s.entity.macro_avg.f1,
        "token_macro_f1": s.token.macro_avg.f1,
        "entity_micro": prf(&s.entity.micro),
        "per_type": s.entity.per_type.iter().map(|(t, p)| (t.clone(), prf(p))).collect::<serde_json::Map<_, _>>(),
        "token_per_type": s.token.per_type.iter().map(|(t, p)| (t.clone(), prf(p))).collect::<serde_json::Map<_, _>>(),
    })
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let device = nuner::device::select_device(device)?;
    let pb = spinner("loading model");
    let model = Pretrained::from_dir(&args.model, &device)?;
    pb.finish_and_clear();
    let data = args.data.read(&args.test)?;
    let s = match &args.head {
        Some(path) => {
            let saved = read_head(path, &model)?;
            let features = args.data.features(&data, &model, &saved.features, &device)?;
            score(&saved, &data.examples, &features, &device)?
        }
        None => score_zero_shot(args.zs.load(model, &args.model, &device)?, &data, args.zs.threshold, &device)?,
    };
    println!("{:<24} {:>9} {:>9} {:>9} {:>8}", "type", "precision", "recall", "f1", "support");
    for (t, p) in &s.entity.per_type {
        println!("{:<24} {:>9.4} {:>9.4} {:>9.4} {:>8}", t, p.precision, p.recall, p.f1, p.support);
    }
    for (name, p) in [("micro avg", &s.entity.micro), ("macro avg", &s.entity.macro_avg)] {
        println!("{:<24} {:>9.4} {:>9.4} {:>9.4} {:>8}", name, p.precision, p.recall, p.f1, p.support);
    }
    println!("{:<24} {:>29.4}", "token macro f1", s.token.macro_avg.f1);
    println!("{}", to_json(&s));
    Ok(())
}
