//! Helpers for the `nuner annotate` tests: the command line, readers of its files, a
//! deterministic annotator, and a corpus.
#![allow(dead_code)]

pub mod server;

use nuner::annotate::{read_annotated, AnnotatedSentence};
use serde_json::Value;
use server::Server;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn command(server: &Server, input: &Path, output: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nuner"));
    c.args(["annotate", "--endpoint", &server.url, "--input"]).arg(input);
    if !extra.contains(&"--llm-model") {
        c.args(["--llm-model", "test-model"]);
    }
    c.arg("--output").arg(output).args(["--backoff-ms", "20", "--max-backoff", "0.2"]).args(extra);
    for var in [
        "NUNER_API_KEY",
        "OPENAI_API_KEY",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env_remove(var);
    }
    c.env("NO_PROXY", "127.0.0.1").stdin(Stdio::null());
    c
}

pub fn annotate(server: &Server, input: &Path, output: &Path, extra: &[&str]) -> Output {
    command(server, input, output, extra).output().expect("runs nuner")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn assert_ok(o: &Output) {
    assert!(o.status.success(), "nuner annotate failed ({:?}):\n{}", o.status.code(), stderr(o));
}

/// The output's lines, checked: every line complete, ids unique; sorted by id.
pub fn lines(output: &Path) -> Vec<AnnotatedSentence> {
    let bytes = std::fs::read(output).unwrap();
    assert!(bytes.is_empty() || bytes.ends_with(b"\n"), "half line at the end of {}", output.display());
    let mut v = read_annotated(&bytes, "out").unwrap();
    let ids: HashSet<_> = v.iter().map(|l| l.id.unwrap()).collect();
    assert_eq!(ids.len(), v.len(), "duplicate ids");
    v.sort_by_key(|l| l.id);
    v
}

pub fn skipped(output: &Path) -> Vec<Value> {
    let p = PathBuf::from(format!("{}.skipped.jsonl", output.display()));
    std::fs::read_to_string(p).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

pub fn stats(output: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(format!("{}.stats.json", output.display())).unwrap()).unwrap()
}

pub fn span_text(s: &AnnotatedSentence, k: usize) -> String {
    s.text.chars().skip(s.spans[k].start).take(s.spans[k].end - s.spans[k].start).collect()
}

/// A deterministic annotator: the names below that occur in the sentence, in several reply
/// styles (numbering, bullets, fences, chatter, extra whitespace), plus an entity not in the
/// sentence and a "concept" annotation.
pub fn oracle(sentence: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("Anna Schmidt", "person"),
        ("Zürich", "city"),
        ("Kraków", "city"),
        ("東京", "city"),
        ("São Paulo", "city"),
        ("Acme Corp", "company"),
        ("renewable energy", "energy source"),
        ("climate policy", "public policy"),
        ("Bob", "person"),
        ("jazz", "music genre"),
    ];
    let found: Vec<_> = NAMES.iter().filter(|(n, _)| sentence.contains(n)).collect();
    let style = sentence.len() % 4;
    let mut out = String::new();
    if style == 2 {
        out.push_str("Here are the entities I found:\n```\n");
    }
    for (i, (name, concept)) in found.iter().enumerate() {
        let line = match style {
            0 => format!("{name} <> {concept} <> a {concept}"),
            1 => format!("{}. {name}  <>   {concept} <> a {concept} <> really", i + 1),
            2 => format!("- **{name}** <> {concept} <> a {concept}"),
            _ => format!("  {}) \"{name}\"<>{concept}<>a {concept}  ", i + 1),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("Berlin <> city <> not in the sentence\nmeeting <> concept <> too generic\n");
    if style == 2 {
        out.push_str("```\nLet me know if you need more.");
    }
    out
}

pub fn corpus(n: usize) -> String {
    const WHO: &[&str] = &["Anna Schmidt", "Bob", "the board of Acme Corp"];
    const WHERE: &[&str] = &["Zürich", "Kraków", "東京", "São Paulo"];
    const WHAT: &[&str] = &["renewable energy", "climate policy", "jazz"];
    (0..n)
        .map(|i| format!("Item {i}: {} met us in {} to talk about {}.", WHO[i % 3], WHERE[i % 4], WHAT[i % 3]))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn write_corpus(dir: &Path, n: usize) -> PathBuf {
    let p = dir.join("corpus.txt");
    std::fs::write(&p, corpus(n)).unwrap();
    p
}

pub fn spawn(server: &Server, input: &Path, output: &Path, extra: &[&str]) -> Child {
    command(server, input, output, extra).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Ids of the complete lines of `output`.
pub fn complete_ids(output: &Path) -> HashSet<usize> {
    let bytes = std::fs::read(output).unwrap_or_default();
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    read_annotated(&bytes[..end], "out").unwrap().into_iter().map(|l| l.id.unwrap()).collect()
}

pub fn kill_when(child: &mut Child, output: &Path, at_least: usize) -> HashSet<usize> {
    let t = Instant::now();
    while complete_ids(output).len() < at_least {
        assert!(t.elapsed() < Duration::from_secs(60), "no progress");
        assert!(child.try_wait().unwrap().is_none(), "finished before it could be killed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Let the server log the requests the killed process had already sent.
    std::thread::sleep(Duration::from_millis(300));
    complete_ids(output)
}

pub fn id_of(sentence: &str) -> usize {
    sentence[5..].split(':').next().unwrap().parse().unwrap()
}
