//! `nuner`: the native command-line tool. Devices are chosen here and nowhere else.

mod bench;
mod convert;
mod embed;
mod info;
mod progress;

use clap::{Parser, Subcommand};

/// NuNER encoders on Burn: convert checkpoints, embed text, benchmark.
#[derive(Parser)]
#[command(name = "nuner", version, about, long_about = None)]
struct Cli {
    /// Compute device: flex (pure-Rust CPU), wgpu (Vulkan/Metal/DX12/GL), ndarray.
    #[arg(long, global = true, default_value = "flex", env = "NUNER_DEVICE")]
    device: String,
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
    /// Measure throughput.
    Bench(bench::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Convert(a) => convert::run(a, &cli.device),
        Command::Embed(a) => embed::run(a, &cli.device),
        Command::Info(a) => info::run(a, &cli.device),
        Command::Bench(a) => bench::run(a, &cli.device),
    }
}
