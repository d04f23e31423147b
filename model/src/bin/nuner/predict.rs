//! `nuner predict --model DIR --head HEAD [FILES | stdin]` — one JSON line per input line:
//! `{"text", "spans": [{"start", "end", "label", "score"}]}` with character offsets.

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

/// Tag raw text: each input line is one text; each output line is its JSON.
///
/// Examples:
///   echo "Barack Obama visited Paris." | nuner predict --model public/model --head conll.head.json
///   nuner predict --model DIR --head HEAD notes.txt > entities.jsonl
#[derive(clap::Args)]
pub struct Args {
    /// Encoder directory.
    #[arg(long)]
    model: PathBuf,
    /// Head file written by `nuner finetune`.
    #[arg(long)]
    head: PathBuf,
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
    let saved = read_head(&args.head, &model)?;
    let head = saved.to_head(&device);
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
                emit(&mut out, &lines, &model, &saved, &head, &device, threads)?;
                lines.clear();
            }
        }
    }
    emit(&mut out, &lines, &model, &saved, &head, &device, threads)
}

fn emit(
    out: &mut impl Write,
    lines: &[String],
    model: &Pretrained,
    saved: &nuner::heads::SavedHead,
    head: &nuner::heads::Head,
    device: &burn::prelude::Device,
    threads: usize,
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let features = features_parallel(model, &texts, Segmentation::Unicode, &saved.features, device, threads, &|_, _| {})?;
    let probs = block_on(tag_probabilities(head, &features, device))?;
    let (spans, _) = decode_all(&probs, &features, &saved.labels);
    for (text, spans) in texts.iter().zip(spans) {
        writeln!(out, "{}", json!({"text": text, "spans": spans}))?;
    }
    out.flush()?;
    Ok(())
}
