//! `nuner annotate --endpoint URL --llm-model NAME --input FILE --output FILE [--concurrency N]`

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nuner::annotate::client::{ApiKey, ChatClient, ClientConfig};
use nuner::annotate::journal::{Journal, Meta, RunIdentity};
use nuner::annotate::run::{run as run_job, Job, Outcome, Report, RunOptions};
use nuner::annotate::{
    detect_input_format, read_corpus, GenericConcept, InputFormat, MatchOptions, Occurrences, Segmentation, Template,
};
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::progress::spinner;

const AFTER_HELP: &str = "\
Every sentence of the input is sent to URL/chat/completions with the prompt; the reply's
`entity <> concept <> description` lines become character spans found by string matching.

Output: one JSON line per sentence, as `nuner pretrain` reads it,
  {\"id\": 0, \"text\": \"...\", \"spans\": [{\"start\", \"end\", \"label\", \"description\"}]}
with character offsets and label = the concept; spans may overlap. Beside it:
OUTPUT.skipped.jsonl (sentences not annotated, with the reason), OUTPUT.meta.json (what the
run is), OUTPUT.stats.json (sentences, spans, concepts, drop reasons).

Resumable: killed at any moment and started again with the same arguments, it sends only the
sentences that have no line yet. The API key is read from NUNER_API_KEY, else OPENAI_API_KEY,
and is never printed or written.

Exit status: 0 all done; 1 error, or some sentences failed after all retries (run again to
retry them); 3 stopped by --max-requests or --max-tokens (run again to continue); 130
interrupted by Ctrl-C (run again to continue).

Examples:
  nuner annotate --endpoint http://127.0.0.1:8000/v1 --llm-model Qwen/Qwen2.5-7B-Instruct \\
      --input c4.txt --output c4.concepts.jsonl --concurrency 64
  OPENAI_API_KEY=... nuner annotate --endpoint https://api.openai.com/v1 --llm-model gpt-4o-mini \\
      --input docs.jsonl --text-field body --output out.jsonl --max-tokens 5000000
  nuner annotate --endpoint http://127.0.0.1:11434/v1 --llm-model llama3.1 --input c4.txt \\
      --output x.jsonl --prompt my-prompt.txt --dry-run";

/// Annotate raw text with concepts using any OpenAI-compatible LLM server (the paper's step 1).
/// Details, exit status and examples: `AFTER_HELP`, printed by `--help` after the options.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// API base of the server, e.g. http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:8080/v1
    /// (llama.cpp), http://127.0.0.1:11434/v1 (Ollama), https://api.openai.com/v1.
    #[arg(long)]
    pub endpoint: String,
    /// Model name as the server knows it.
    #[arg(long)]
    pub llm_model: String,
    /// Raw text, one document per line, or JSON lines with a text field.
    #[arg(long)]
    pub input: PathBuf,
    /// Output JSON lines (appended to when resuming).
    #[arg(long)]
    pub output: PathBuf,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Prompt template file with a {sentence} placeholder ({{ and }} for literal braces);
    /// default: the built-in prompt in the paper's spirit (see --dry-run).
    #[arg(long)]
    pub prompt: Option<PathBuf>,
    /// Sampling temperature.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Most tokens in one reply (the request's max_tokens).
    #[arg(long, default_value_t = 1024)]
    pub max_reply_tokens: u32,
    /// Extra JSON fields for every request body, e.g. '{"seed": 0}'.
    #[arg(long)]
    pub extra_body: Option<String>,
    /// Time limit of one request, in seconds.
    #[arg(long, default_value_t = 120.0)]
    pub timeout: f64,
    /// Retries after 429, 5xx, timeouts and connection errors.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// First backoff delay in milliseconds (doubled at each retry, with jitter; Retry-After wins).
    #[arg(long, default_value_t = 500)]
    pub backoff_ms: u64,
    /// Longest backoff delay in seconds.
    #[arg(long, default_value_t = 30.0)]
    pub max_backoff: f64,
    /// Spend guard: stop after this many HTTP requests in this run (retries count).
    #[arg(long)]
    pub max_requests: Option<u64>,
    /// Spend guard: stop sending once the replies' usage.total_tokens reach this in this run.
    #[arg(long)]
    pub max_tokens: Option<u64>,
    /// Annotate only the first N sentences (a later run with a larger N continues).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Input format; auto: JSON lines for .jsonl/.ndjson or a first character `{`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "text", "jsonl"])]
    pub input_format: String,
    /// Field holding the text in JSON lines.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// Unit of annotation: sentences (Unicode sentence boundaries) or lines (documents as they are).
    #[arg(long, default_value = "sentences", value_parser = ["sentences", "lines"])]
    pub split: String,
    /// Annotate identical sentences once.
    #[arg(long)]
    pub dedup: bool,
    /// Spans for every occurrence of an entity's text, or the first only.
    #[arg(long, default_value = "all", value_parser = ["all", "first"])]
    pub occurrences: String,
    /// Also match an entity's text inside a word ("art" in "party").
    #[arg(long)]
    pub inside_words: bool,
    /// The concept "concept": drop the annotation, or the whole sentence (the paper's filter).
    #[arg(long, default_value = "drop-span", value_parser = ["drop-span", "drop-sentence"])]
    pub generic_concept: String,
    /// Split the input and print the first prompt and the counts; send nothing, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if !(args.timeout > 0.0 && args.max_backoff >= 0.0) {
        bail!("--timeout must be positive and --max-backoff not negative");
    }
    let same =
        |a: &PathBuf, b: &PathBuf| a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if same(&args.input, &args.output) {
        bail!("--output is the input file");
    }
    let bytes = std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let name = args.input.display().to_string();
    let format = match args.input_format.as_str() {
        "text" => InputFormat::Text,
        "jsonl" => InputFormat::Jsonl { field: args.text_field.clone() },
        _ => detect_input_format(&bytes, &name, &args.text_field),
    };
    let segmentation = if args.split == "lines" { Segmentation::Lines } else { Segmentation::Sentences };
    let corpus = read_corpus(&bytes, &name, &format, segmentation, args.dedup)?;
    drop(bytes);
    let template = match &args.prompt {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Template::parse(&text, &p.display().to_string())?
        }
        None => Template::default_prompt(),
    };
    let matching = MatchOptions {
        occurrences: if args.occurrences == "first" { Occurrences::First } else { Occurrences::All },
        whole_words: !args.inside_words,
        generic: if args.generic_concept == "drop-sentence" {
            GenericConcept::DropSentence
        } else {
            GenericConcept::DropSpan
        },
    };
    let extra = match &args.extra_body {
        Some(s) => match serde_json::from_str(s).context("--extra-body is not JSON")? {
            serde_json::Value::Object(m) => m,
            _ => bail!("--extra-body must be a JSON object, e.g. '{{\"seed\": 0}}'"),
        },
        None => Default::default(),
    };
    let key = ApiKey::from_env();
    let client = ChatClient::new(ClientConfig {
        endpoint: args.endpoint.clone(),
        model: args.llm_model.clone(),
        temperature: args.temperature,
        max_tokens: args.max_reply_tokens,
        timeout: Duration::from_secs_f64(args.timeout),
        extra: extra.clone(),
        api_key: key.as_ref().map(|(k, _)| k.clone()),
    })?;
    eprintln!(
        "{name}: {} documents, {} sentences{}",
        corpus.documents,
        corpus.sentences.len(),
        if args.dedup { format!(" ({} duplicates left out)", corpus.duplicates) } else { String::new() }
    );
    if args.dry_run {
        let first = corpus.sentences.first().map(|s| template.render(s)).unwrap_or_default();
        eprintln!("would send to {} (model {:?}); first prompt:\n{first}", client.url(), args.llm_model);
        return Ok(());
    }
    match &key {
        Some((_, var)) => eprintln!("API key: from {var}"),
        None => eprintln!("API key: none (set NUNER_API_KEY or OPENAI_API_KEY if the server needs one)"),
    }
    let meta = Meta {
        tool: "nuner annotate".into(),
        identity: RunIdentity {
            sentences: corpus.sentences.len(),
            corpus: corpus.fingerprint(),
            template: template.fingerprint(),
            model: args.llm_model.clone(),
            matching,
        },
        settings: json!({
            "input": name, "split": args.split, "dedup": args.dedup, "endpoint": public_endpoint(&args.endpoint),
            "temperature": args.temperature, "max_reply_tokens": args.max_reply_tokens, "extra_body": extra,
        }),
    };
    let pb = spinner(format!("reading {}", args.output.display()));
    let (mut journal, resumed) = Journal::open(&args.output, &meta, &corpus.sentences)?;
    pb.finish_and_clear();
    for (path, bytes) in &resumed.repaired {
        eprintln!("{}: cut off a partial last line ({bytes} bytes) left by an interrupted run", path.display());
    }
    for change in &resumed.changed_settings {
        eprintln!("note: setting changed since the last run: {change}");
    }
    let already = resumed.done.iter().filter(|&&d| d).count();
    if already > 0 {
        eprintln!("resuming: {already} of {} sentences already done", corpus.sentences.len());
    }
    let opts = RunOptions {
        concurrency: args.concurrency,
        retries: args.retries,
        backoff_base: Duration::from_millis(args.backoff_ms),
        backoff_cap: Duration::from_secs_f64(args.max_backoff),
        max_requests: args.max_requests,
        max_tokens: args.max_tokens,
        limit: args.limit,
        matching,
        ..RunOptions::default()
    };
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template("annotating {bar:30} {pos}/{len} {per_sec:1} [{elapsed} < {eta}] {msg}")
            .expect("valid template"),
    );
    let tty = std::io::stderr().is_terminal();
    let (mut started, mut last_log) = (false, Instant::now());
    let job = Job { sentences: &corpus.sentences, template: &template };
    let report = runtime.block_on(run_job(job, client, &mut journal, resumed, &opts, &mut |p| {
        if !started {
            pb.set_length(p.total as u64);
            pb.set_position(p.done as u64);
            pb.reset_eta();
            started = true;
        }
        pb.set_position(p.done as u64);
        let c = p.counters;
        let msg = format!("{} in flight, {} req, {} retries, {} tok", p.in_flight, c.requests, c.retries, c.tokens);
        if !tty && last_log.elapsed() >= Duration::from_secs(60) {
            eprintln!("{}/{} done; {msg}", p.done, p.total);
            last_log = Instant::now();
        }
        pb.set_message(msg);
    }));
    pb.finish_and_clear();
    print_summary(&report, &journal.paths().stats);
    match report.outcome {
        Outcome::Complete => Ok(()),
        Outcome::Incomplete { last_error } => Err(anyhow::anyhow!(
            "{} sentence(s) failed after {} retries (last error: {last_error}); run the same command again to retry them",
            report.counters.failed,
            args.retries
        )),
        Outcome::SpendLimit(why) => {
            eprintln!("stopped: {why}; {} sentences left; run again to continue", report.total - report.done);
            std::process::exit(3)
        }
        Outcome::Interrupted => {
            eprintln!("interrupted; run the same command again to continue");
            std::process::exit(130)
        }
        Outcome::Error(e) => Err(anyhow::Error::new(e).context("annotation stopped; run the same command again to continue")),
    }
}

/// The endpoint without user name or password, for the meta file.
fn public_endpoint(endpoint: &str) -> String {
    match reqwest::Url::parse(endpoint) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => String::new(),
    }
}

fn print_summary(r: &Report, stats_path: &std::path::Path) {
    let (s, c) = (&r.stats, &r.counters);
    eprintln!(
        "{}/{} sentences done in scope; output: {} sentences ({} with spans), {} spans, {} distinct concepts ({} seen once); skipped: {}",
        r.done,
        r.total,
        s.sentences,
        s.with_spans,
        s.spans,
        s.distinct_concepts(),
        s.singleton_concepts(),
        s.skipped_total()
    );
    let top: Vec<String> = s.top_concepts(10).into_iter().map(|(k, n)| format!("{k} ({n})")).collect();
    if !top.is_empty() {
        eprintln!("top concepts: {}", top.join(", "));
    }
    let d = &c.drops;
    eprintln!(
        "this run: {} written, {} skipped, {} failed; {} requests ({} retries), {} tokens, {} truncated replies, {:.1} s; \
         dropped annotations: {} not in the sentence, {} concept \"concept\", {} malformed, {} repeated; {} chatter lines",
        c.written,
        c.skipped,
        c.failed,
        c.requests,
        c.retries,
        c.tokens,
        c.truncated_replies,
        r.elapsed.as_secs_f64(),
        d.not_found,
        d.generic_concept,
        d.malformed,
        d.duplicate,
        d.chatter
    );
    if c.replies_without_usage > 0 {
        eprintln!(
            "note: {} replies had no usage.total_tokens; --max-tokens cannot count them",
            c.replies_without_usage
        );
    }
    eprintln!("stats: {}", stats_path.display());
}
