//! `nuner`: the native command-line tool. Devices are chosen here and nowhere else.

mod annotate;
mod bench;
mod convert;
mod dataset;
mod embed;
mod eval;
mod experiment;
mod finetune;
mod info;
mod predict;
mod pretrain;
mod progress;
mod zeroshot;

use clap::{Parser, Subcommand};

/// mimalloc keeps freed pages for reuse. glibc maps every allocation above its threshold
/// afresh and faults each page in again, which cost Flex about a fifth of the encoder's time
/// on MiniLM (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// NuNER encoders on Burn: convert checkpoints, embed text, benchmark.
#[derive(Parser)]
#[command(name = "nuner", version, about, long_about = None)]
struct Cli {
    /// Compute device: flex (pure-Rust CPU), wgpu (Vulkan/Metal/DX12/GL), ndarray.
    #[arg(long, global = true, default_value = "flex", env = "NUNER_DEVICE")]
    device: String,
    /// 8-bit weights and activations in the encoder's linear layers (dynamic quantisation, as
    /// onnxruntime's int8 exports run), on the flex device; slightly less exact, and natively not
    /// faster than f32 (measured on AVX2 and AVX-512 VNNI; docs/BENCHMARKS.md).
    #[arg(long, global = true, env = "NUNER_INT8")]
    int8: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a Hugging Face checkpoint into the form the browser app loads.
    Convert(convert::Args),
    /// Print tokens, character offsets and hidden states of a text as JSON.
    Embed(embed::Args),
    /// Describe a model directory.
    Info(info::Args),
    /// Train a NER head on frozen encoder features (few-shot protocol).
    Finetune(finetune::Args),
    /// Score a head on an annotated test file.
    Eval(eval::Args),
    /// Tag raw text lines with a head (or zero-shot with --types); one JSON line per input line.
    Predict(predict::Args),
    /// Run the few-shot protocol over datasets, k and seeds; write results JSON.
    Experiment(experiment::Args),
    /// Measure throughput.
    Bench(bench::Args),
    /// Pre-train an encoder on concept annotations (NuNER), from a TOML file; resumable.
    Pretrain(pretrain::Args),
    /// Build an open-type concept pool from labelled datasets (WNUT-17, CrossNER held out).
    Pool(pretrain::PoolArgs),
    /// Annotate raw text with concepts using an OpenAI-compatible LLM server (resumable).
    Annotate(annotate::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    nuner::encoder::kernels::set_int8(cli.int8);
    match cli.command {
        Command::Convert(a) => convert::run(a, &cli.device),
        Command::Embed(a) => embed::run(a, &cli.device),
        Command::Info(a) => info::run(a, &cli.device),
        Command::Finetune(a) => finetune::run(a, &cli.device),
        Command::Eval(a) => eval::run(a, &cli.device),
        Command::Predict(a) => predict::run(a, &cli.device),
        Command::Experiment(a) => experiment::run(a, &cli.device),
        Command::Bench(a) => bench::run(a, &cli.device),
        Command::Annotate(a) => annotate::run(a),
        Command::Pretrain(a) => pretrain::run(a, &cli.device),
        Command::Pool(a) => pretrain::run_pool(a),
    }
}
