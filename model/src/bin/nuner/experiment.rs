//! `nuner experiment` — the paper's few-shot protocol over several datasets: for each dataset,
//! k and seed, sample k mentions per type from the training file, train a head on frozen
//! features, score it on the full test file. Writes one JSON file of results and, with
//! `--export`, the exact features and samples for the Python reference (scripts/reference_probe.py).

use anyhow::{bail, Context, Result};
use nuner::data::Example;
use nuner::heads::{LabelSet, WordFeatures};
use nuner::pipeline::{features_parallel, training_rows};
use nuner::Pretrained;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::dataset::DataArgs;
use crate::eval::score;
use crate::finetune::{fit, pick, TrainArgs};
use crate::progress::{bar, spinner};

/// Datasets of ../shared/data by name: (train file, test file).
const DATASETS: &[(&str, &str, &str)] = &[
    ("conll2003", "conll2003/eng.train", "conll2003/eng.testb"),
    ("wnut17", "wnut17/wnut17train.conll", "wnut17/emerging.test.annotated"),
    ("crossner_ai", "crossner/ai/train.txt", "crossner/ai/test.txt"),
    ("crossner_literature", "crossner/literature/train.txt", "crossner/literature/test.txt"),
    ("crossner_music", "crossner/music/train.txt", "crossner/music/test.txt"),
    ("crossner_politics", "crossner/politics/train.txt", "crossner/politics/test.txt"),
    ("crossner_science", "crossner/science/train.txt", "crossner/science/test.txt"),
];

/// Run the few-shot protocol (k-shot samples × seeds × datasets) and write the results as JSON.
///
/// Example: nuner experiment --model .cache/models/all-MiniLM-L6-v2 --out results.json --export .cache/export
#[derive(clap::Args)]
pub struct Args {
    /// Encoder directory.
    #[arg(long)]
    model: PathBuf,
    /// Folder holding the datasets (the repository's ../shared/data).
    #[arg(long, default_value = "../shared/data")]
    data_dir: PathBuf,
    /// Datasets to run (default: all): conll2003, wnut17, crossner_{ai,literature,music,politics,science}.
    #[arg(long, value_delimiter = ',')]
    datasets: Option<Vec<String>>,
    /// Mentions per type.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    k: Vec<usize>,
    /// Seeds.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    seeds: Vec<u64>,
    /// Sampling: kshot or k2k.
    #[arg(long, default_value = "kshot", value_parser = ["kshot", "k2k"])]
    sampling: String,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    data: DataArgs,
    /// Results file (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Also write features and samples here, for the reference implementation.
    #[arg(long)]
    export: Option<PathBuf>,
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let device = nuner::device::select_device(device)?;
    let pb = spinner("loading model");
    let model = Pretrained::from_dir(&args.model, &device)?;
    pb.finish_and_clear();
    let feature_config = args.train.feature_config(&model);
    let wanted: Vec<&(&str, &str, &str)> = match &args.datasets {
        None => DATASETS.iter().collect(),
        Some(names) => names
            .iter()
            .map(|n| DATASETS.iter().find(|d| d.0 == n).with_context(|| format!("unknown dataset {n}")))
            .collect::<Result<_>>()?,
    };
    let mut runs = Vec::new();
    let mut timing = json!({});
    for &&(name, train_file, test_file) in &wanted {
        let train = args.data.read(&args.data_dir.join(train_file))?;
        let test = args.data.read(&args.data_dir.join(test_file))?;
        let labels = LabelSet::new(train.examples.iter().flat_map(|e| e.spans.iter().map(|s| s.label.clone())));
        if labels.types().is_empty() {
            bail!("{name}: no labelled spans in {train_file}");
        }
        // Tagging the test set, timed from scratch once (features without the cache).
        let texts: Vec<&str> = test.examples.iter().map(|e| e.text.as_str()).collect();
        let start = Instant::now();
        let pb = bar(texts.len() as u64, format!("{name}: test features"));
        let test_features = features_parallel(&model, &texts, test.segmentation, &feature_config, &device, args.data.threads(), &|d, _| pb.set_position(d as u64))?;
        pb.finish_and_clear();
        let features_seconds = start.elapsed().as_secs_f64();

        let samples: Vec<(usize, u64, Vec<usize>)> = args
            .k
            .iter()
            .flat_map(|&k| args.seeds.iter().map(move |&s| (k, s)))
            .map(|(k, s)| (k, s, pick(&train.examples, Some(k), &args.sampling, s)))
            .collect();
        let union: Vec<usize> = samples.iter().flat_map(|s| s.2.iter().copied()).collect::<BTreeSet<_>>().into_iter().collect();
        let union_texts: Vec<&str> = union.iter().map(|&i| train.examples[i].text.as_str()).collect();
        let union_features = features_parallel(&model, &union_texts, train.segmentation, &feature_config, &device, args.data.threads(), &|_, _| {})?;
        let feature_of = |i: usize| &union_features[union.binary_search(&i).expect("in the union")];

        if let Some(dir) = &args.export {
            export_test(&dir.join(name), &test.examples, &test_features, &labels)?;
        }
        let pb = bar(samples.len() as u64, format!("{name}: heads"));
        for (k, seed, chosen) in &samples {
            let examples: Vec<Example> = chosen.iter().map(|&i| train.examples[i].clone()).collect();
            let features: Vec<WordFeatures> = chosen.iter().map(|&i| feature_of(i).clone()).collect();
            let config = args.train.training_config(*seed);
            let start = Instant::now();
            let (saved, _) = fit(&model, &device, &examples, &features, &labels, &feature_config, &config, json!({}), false)?;
            let train_seconds = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let s = score(&saved, &test.examples, &test_features, &device)?;
            let score_seconds = start.elapsed().as_secs_f64();
            if let Some(dir) = &args.export {
                export_sample(&dir.join(name), *k, *seed, &examples, &features, &labels)?;
            }
            runs.push(json!({
                "dataset": name, "k": k, "seed": seed, "sentences": chosen.len(),
                "mentions": examples.iter().map(|e| e.spans.len()).sum::<usize>(),
                "entity_micro_f1": s.entity.micro.f1, "entity_macro_f1": s.entity.macro_avg.f1,
                "token_macro_f1": s.token.macro_avg.f1, "train_seconds": train_seconds,
            }));
            if name == "conll2003" && *k == 16 {
                timing["conll2003_k16_train_seconds"] = json!(train_seconds);
                timing["conll2003_test_tag_seconds"] = json!(features_seconds + score_seconds);
                timing["conll2003_test_sentences"] = json!(test.examples.len());
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        eprintln!("{name}: {} runs, test features in {features_seconds:.1} s", samples.len());
    }
    let out = json!({
        "model": model.name, "fingerprint": model.fingerprint, "features": feature_config,
        "head": args.train.head, "sampling": args.sampling, "threads": args.data.threads(),
        "training": serde_json::to_value(args.train.training_config(0))?,
        "runs": runs, "timing": timing,
    });
    std::fs::write(&args.out, serde_json::to_vec_pretty(&out)?).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

fn write_rows(path: &Path, rows: &[&[f32]], dim: usize, extra: Vec<(&str, Vec<u64>)>) -> Result<()> {
    use safetensors::tensor::TensorView;
    use safetensors::Dtype;
    let x: Vec<u8> = rows.iter().flat_map(|r| r.iter().flat_map(|v| v.to_le_bytes())).collect();
    let extra_bytes: Vec<(&str, usize, Vec<u8>)> =
        extra.into_iter().map(|(n, v)| (n, v.len(), v.into_iter().flat_map(u64::to_le_bytes).collect())).collect();
    let mut views = vec![("x".to_string(), TensorView::new(Dtype::F32, vec![rows.len(), dim], &x)?)];
    for (n, len, b) in &extra_bytes {
        views.push((n.to_string(), TensorView::new(Dtype::U64, vec![*len], b)?));
    }
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    std::fs::write(path, safetensors::serialize(views, None)?)?;
    Ok(())
}

fn export_test(dir: &Path, examples: &[Example], features: &[WordFeatures], labels: &LabelSet) -> Result<()> {
    let rows: Vec<&[f32]> = features.iter().flat_map(|f| (0..f.units.len()).map(move |i| f.row(i))).collect();
    let counts = features.iter().map(|f| f.units.len() as u64).collect();
    write_rows(&dir.join("test.safetensors"), &rows, features.first().map_or(0, |f| f.dim), vec![("counts", counts)])?;
    let units: Vec<Vec<(usize, usize)>> = features.iter().map(|f| f.units.clone()).collect();
    let gold = nuner::pipeline::gold_tags(examples, &units);
    let meta: Value = json!({"tags": labels.tag_names(), "gold": gold});
    std::fs::write(dir.join("test.json"), serde_json::to_vec(&meta)?)?;
    Ok(())
}

fn export_sample(dir: &Path, k: usize, seed: u64, examples: &[Example], features: &[WordFeatures], labels: &LabelSet) -> Result<()> {
    let (set, _) = training_rows(examples, features, labels)?;
    let rows: Vec<&[f32]> = set.features.chunks(set.dim.max(1)).collect();
    let y = set.tags.iter().map(|&t| t as u64).collect();
    write_rows(&dir.join(format!("train_k{k}_s{seed}.safetensors")), &rows, set.dim, vec![("y", y)])
}
