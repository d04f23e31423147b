//! `nuner predict --model DIR --head HEAD [FILES | stdin]` — one JSON line per input line:
//! `{"text", "spans": [{"start", "end", "label", "score"}]}` with character offsets.
//! `--types "person, city"` instead of `--head` tags zero-shot with the concept tower that
//! `nuner pretrain` keeps (see `nuner::pretrain::zeroshot`).

use anyhow::{Context, Result};
use nuner::embed::block_on;
use nuner::pipeline::{decode_all, features_parallel, tag_probabilities};
use nuner::tokenize::words::Segmentation;
use nuner::Pretrained;
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use crate::eval::read_head;
use crate::progress::spinner;
use crate::zeroshot::{parse_types, ZeroShotArgs};

/// What tags the lines: a trained head, or the concept tower and type names.
enum Tagger {
    Head(Pretrained, nuner::heads::SavedHead, nuner::heads::Head),
    ZeroShot(nuner::pretrain::ZeroShot, Vec<String>, f32),
}

/// Tag raw text: each input line is one text; each output line is its JSON.
///
/// Examples:
///   echo "Barack Obama visited Paris." | nuner predict --model public/model --head conll.head.json
///   nuner predict --model DIR --head HEAD notes.txt > entities.jsonl
///   echo "Ada Lovelace ate ramen in Kyoto." | nuner predict --model runs/pretrain --types "person, city, dish"
#[derive(clap::Args)]
pub struct Args {
    /// Encoder directory.
    #[arg(long)]
    model: PathBuf,
    /// Head file written by `nuner finetune`.
    #[arg(long, required_unless_present = "types", conflicts_with = "types")]
    head: Option<PathBuf>,
    /// Zero-shot: comma-separated type names scored against the concept tower (no head needed).
    #[arg(long)]
    types: Option<String>,
    #[command(flatten)]
    zero_shot: ZeroShotArgs,
    /// Text files, one text per line (default: standard input).
    files: Vec<PathBuf>,
    /// Lines per batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Threads for the encoder (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: Args, device: &str) -> Result<()> {
    let device = nuner::device::select_device(device)?;
    let pb = spinner("loading model");
    let model = Pretrained::from_dir(&args.model, &device)?;
    let tagger = match (&args.head, &args.types) {
        (Some(path), _) => {
            let saved = read_head(path, &model)?;
            let head = saved.to_head(&device);
            Tagger::Head(model, saved, head)
        }
        (None, Some(types)) => {
            let types = parse_types(types)?;
            Tagger::ZeroShot(args.zero_shot.load(model, &args.model, &device)?, types, args.zero_shot.threshold)
        }
        (None, None) => unreachable!("clap requires --head or --types"),
    };
    pb.finish_and_clear();
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let readers: Vec<Box<dyn BufRead>> = if args.files.is_empty() {
        vec![Box::new(std::io::stdin().lock())]
    } else {
        args.files
            .iter()
            .map(|p| -> Result<Box<dyn BufRead>> {
                Ok(Box::new(std::io::BufReader::new(std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?)))
            })
            .collect::<Result<_>>()?
    };
    let mut out = std::io::stdout().lock();
    let mut lines = Vec::with_capacity(args.batch);
    for reader in readers {
        for line in reader.lines() {
            lines.push(line.context("reading input")?);
            if lines.len() == args.batch {
                emit(&mut out, &lines, &tagger, &device, threads)?;
                lines.clear();
            }
        }
    }
    emit(&mut out, &lines, &tagger, &device, threads)
}

fn emit(
    out: &mut impl Write,
    lines: &[String],
    tagger: &Tagger,
    device: &burn::prelude::Device,
    threads: usize,
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let spans = match tagger {
        Tagger::Head(model, saved, head) => {
            let features = features_parallel(model, &texts, Segmentation::Unicode, &saved.features, device, threads, &|_, _| {})?;
            let probs = block_on(tag_probabilities(head, &features, device))?;
            decode_all(&probs, &features, &saved.labels).0
        }
        Tagger::ZeroShot(z, types, threshold) => block_on(z.tag(&texts, types, *threshold, device))?,
    };
    for (text, spans) in texts.iter().zip(spans) {
        writeln!(out, "{}", json!({"text": text, "spans": spans}))?;
    }
    out.flush()?;
    Ok(())
}
