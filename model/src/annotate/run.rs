//! A run: the sentences not yet done, `concurrency` requests in flight, retries, the spend
//! guard, and the journal.
//!
//! Sentences are sent in id order; replies are handled as they arrive. Every reply that is
//! ready is turned into lines, and the batch is appended and flushed ([`Journal::append`])
//! before more replies are awaited, so at most one batch is lost to a kill and its sentences
//! are simply sent again.
//!
//! Per request: a transient failure ([`Failure::Transient`]) is retried up to `retries` times,
//! after the server's `Retry-After` when it sent one (at most 10 minutes), else after
//! [`backoff`]. A sentence that still fails is left undone (the next run sends it again) and
//! the run goes on; when `max(3, concurrency)` sentences fail in a row with no reply in between,
//! the server is taken to be down and the run stops. A rejected request (HTTP 400/413/422)
//! skips its sentence, but rejections are only written once the server has accepted a request
//! in this run: ten rejections before any success stop the run as a configuration error and
//! leave those sentences undone. Fatal answers (401, 403, 404) stop the run at once. A 200
//! reply is never retried for its content: what does not parse is counted.
//!
//! Spend guard, per run: `max_requests` counts every HTTP request, retries included, and is
//! never exceeded (a retry that would exceed it leaves its sentence undone); `max_tokens`
//! counts `usage.total_tokens` and stops new requests once reached, so requests already in
//! flight may overshoot it by up to `concurrency` replies.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use super::client::{backoff, ChatClient, Failure, Reply};
use super::error::AnnotateError;
use super::journal::{Journal, Resumed};
use super::stats::{Drops, Stats};
use super::{annotate_reply, MatchOptions, SkipReason, SkippedSentence, Template, Verdict};

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Requests in flight.
    pub concurrency: usize,
    /// Retries of a request after a transient failure.
    pub retries: u32,
    /// First backoff delay (doubled at each retry, with jitter).
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_cap: Duration,
    /// Stop after this many HTTP requests in this run.
    pub max_requests: Option<u64>,
    /// Stop sending after this many tokens (`usage.total_tokens`) in this run.
    pub max_tokens: Option<u64>,
    /// Only the first `limit` sentences of the input.
    pub limit: Option<usize>,
    /// How spans are found.
    pub matching: MatchOptions,
    /// How often the stats file is rewritten.
    pub stats_every: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            retries: 5,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            max_requests: None,
            max_tokens: None,
            limit: None,
            matching: MatchOptions::default(),
            stats_every: Duration::from_secs(10),
        }
    }
}

/// What this run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunCounters {
    /// Lines written to the output.
    pub written: u64,
    /// Lines written to the skipped file.
    pub skipped: u64,
    /// Sentences given up after all retries (left for the next run).
    pub failed: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Retries.
    pub retries: u64,
    /// `usage.total_tokens`, summed.
    pub tokens: u64,
    /// Replies without `usage.total_tokens`.
    pub replies_without_usage: u64,
    /// Replies cut by `max_tokens` (`finish_reason: "length"`).
    pub truncated_replies: u64,
    /// Annotation lines dropped, by reason.
    pub drops: Drops,
}

/// A snapshot for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Sentences done (in the output or skipped), earlier runs included.
    pub done: usize,
    /// Sentences in scope.
    pub total: usize,
    /// Requests waiting for a reply or a retry.
    pub in_flight: usize,
    /// This run's counters.
    pub counters: &'a RunCounters,
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every sentence in scope is done.
    Complete,
    /// Some sentences failed after all retries; running again sends them again.
    Incomplete {
        /// The last failure.
        last_error: String,
    },
    /// The spend guard stopped the run (which limit); running again continues.
    SpendLimit(String),
    /// Interrupted (Ctrl-C); running again continues.
    Interrupted,
    /// The server cannot be used or a file cannot be written; running again continues.
    Error(AnnotateError),
}

/// The end of a run.
#[derive(Debug)]
pub struct Report {
    /// How it ended.
    pub outcome: Outcome,
    /// What this run did.
    pub counters: RunCounters,
    /// Totals over the output and skipped files.
    pub stats: Stats,
    /// Sentences done, earlier runs included, and in scope.
    pub done: usize,
    /// Sentences in scope.
    pub total: usize,
    /// Duration of this run.
    pub elapsed: Duration,
    /// The summary written to the stats file.
    pub summary: serde_json::Value,
}

/// What to annotate.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// All sentences; the index is the id.
    pub sentences: &'a [String],
    /// The prompt.
    pub template: &'a Template,
}

struct Shared {
    client: ChatClient,
    requests: AtomicU64,
    retries: AtomicU64,
    max_requests: Option<u64>,
    opts: RunOptions,
}

impl Shared {
    /// Reserves one request of the budget.
    fn take_request(&self) -> bool {
        let max = self.max_requests.unwrap_or(u64::MAX);
        self.requests.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1)).is_ok()
    }
}

enum Answer {
    Reply(Reply),
    Rejected(String),
    GaveUp(String),
    Fatal(String),
    OutOfBudget,
}

/// One sentence: attempts and retries.
async fn annotate_one(shared: Arc<Shared>, id: usize, prompt: String) -> (usize, Answer) {
    let o = &shared.opts;
    for attempt in 0..=o.retries {
        if !shared.take_request() {
            return (id, Answer::OutOfBudget);
        }
        let (message, retry_after) = match shared.client.complete(&prompt).await {
            Ok(r) => return (id, Answer::Reply(r)),
            Err(Failure::Rejected { message }) => return (id, Answer::Rejected(message)),
            Err(Failure::Fatal { message }) => return (id, Answer::Fatal(message)),
            Err(Failure::Transient { message, retry_after }) => (message, retry_after),
        };
        if attempt == o.retries {
            return (id, Answer::GaveUp(message));
        }
        shared.retries.fetch_add(1, Ordering::Relaxed);
        let wait = retry_after.map(|d| d.min(Duration::from_secs(600)));
        tokio::time::sleep(wait.unwrap_or_else(|| backoff(o.backoff_base, o.backoff_cap, attempt, id as u64))).await;
    }
    unreachable!("the last attempt returns")
}

/// Runs the job until every sentence in scope is done or something stops it. Never panics on
/// server or file trouble: that is the report's [`Outcome::Error`].
pub async fn run(
    job: Job<'_>,
    client: ChatClient,
    journal: &mut Journal,
    resumed: Resumed,
    opts: &RunOptions,
    on_progress: &mut dyn FnMut(&Progress),
) -> Report {
    let start = Instant::now();
    let url = client.url().to_string();
    let total = opts.limit.unwrap_or(usize::MAX).min(job.sentences.len());
    let mut done = resumed.done[..total].iter().filter(|&&d| d).count();
    let mut todo = (0..total).filter(|&i| !resumed.done[i]).peekable();
    let mut stats = resumed.stats;
    let shared = Arc::new(Shared {
        client,
        requests: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        max_requests: opts.max_requests,
        opts: opts.clone(),
    });
    let mut c = RunCounters::default();
    let mut set = JoinSet::new();
    let mut stop: Option<Outcome> = None;
    let (mut replies, mut in_a_row, mut last_error) = (0u64, 0usize, String::new());
    let mut pending_rejections: Vec<SkippedSentence> = Vec::new();
    let mut last_stats = Instant::now();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let server_err = |message: String| Outcome::Error(AnnotateError::Server { url: url.clone(), message });
    loop {
        while stop.is_none() && set.len() < opts.concurrency.max(1) && todo.peek().is_some() {
            let requests = shared.requests.load(Ordering::SeqCst);
            if let Some(m) = opts.max_requests.filter(|&m| requests >= m) {
                stop = Some(Outcome::SpendLimit(format!("--max-requests {m} reached")));
            } else if let Some(m) = opts.max_tokens.filter(|&m| c.tokens >= m) {
                stop = Some(Outcome::SpendLimit(format!("--max-tokens {m} reached ({} tokens used)", c.tokens)));
            } else if let Some(id) = todo.next() {
                set.spawn(annotate_one(shared.clone(), id, job.template.render(&job.sentences[id])));
            }
        }
        c.requests = shared.requests.load(Ordering::SeqCst);
        c.retries = shared.retries.load(Ordering::Relaxed);
        on_progress(&Progress { done, total, in_flight: set.len(), counters: &c });
        if set.is_empty() {
            break;
        }
        let first = tokio::select! {
            r = set.join_next() => r,
            _ = &mut ctrl_c, if !matches!(stop, Some(Outcome::Interrupted | Outcome::Error(_))) => {
                stop = Some(Outcome::Interrupted);
                set.abort_all();
                continue;
            }
        };
        let mut ready: Vec<_> = first.into_iter().collect();
        while let Some(r) = set.try_join_next() {
            ready.push(r);
        }
        let (mut out, mut skipped) = (Vec::new(), Vec::new());
        for r in ready {
            let (id, answer) = match r {
                Ok(x) => x,
                Err(e) if e.is_cancelled() => continue,
                Err(e) => {
                    stop.get_or_insert(server_err(format!("a request task failed: {e}")));
                    continue;
                }
            };
            let text = &job.sentences[id];
            match answer {
                Answer::Reply(reply) => {
                    (replies, in_a_row) = (replies + 1, 0);
                    c.tokens += reply.total_tokens.unwrap_or(0);
                    c.replies_without_usage += u64::from(reply.total_tokens.is_none());
                    c.truncated_replies += u64::from(reply.finish_reason.as_deref() == Some("length"));
                    let (verdict, drops) = annotate_reply(id, text, &reply.content, &opts.matching);
                    c.drops.add(&drops);
                    match verdict {
                        Verdict::Keep(line) => {
                            push_line(&mut out, &line);
                            stats.add_sentence(&line);
                            c.written += 1;
                        }
                        Verdict::Skip(s) => {
                            push_line(&mut skipped, &s);
                            stats.add_skipped(s.reason);
                            c.skipped += 1;
                        }
                    }
                    done += 1;
                }
                Answer::Rejected(detail) => {
                    last_error = detail.clone();
                    pending_rejections.push(SkippedSentence {
                        id,
                        text: text.clone(),
                        reason: SkipReason::Rejected,
                        detail,
                    });
                }
                Answer::GaveUp(message) => {
                    (c.failed, in_a_row, last_error) = (c.failed + 1, in_a_row + 1, message);
                    if in_a_row >= opts.concurrency.max(3) && stop.is_none() {
                        stop = Some(server_err(format!(
                            "{in_a_row} sentences in a row failed after {} retries, the server seems down; last error: {last_error}",
                            opts.retries
                        )));
                        set.abort_all();
                    }
                }
                Answer::Fatal(message) => {
                    if !matches!(stop, Some(Outcome::Error(_))) {
                        stop = Some(server_err(message));
                    }
                    set.abort_all();
                }
                Answer::OutOfBudget => {
                    let m = opts.max_requests.unwrap_or(0);
                    stop.get_or_insert(Outcome::SpendLimit(format!("--max-requests {m} reached")));
                }
            }
        }
        let finished = set.is_empty() && (todo.peek().is_none() || stop.is_some());
        let config_error = replies == 0 && pending_rejections.len() >= 10;
        if config_error && !matches!(stop, Some(Outcome::Error(_))) {
            stop = Some(server_err(format!(
                "the server rejected the first {} requests and accepted none; last answer: {last_error}",
                pending_rejections.len()
            )));
            set.abort_all();
        }
        if !config_error && (replies > 0 || finished) && !matches!(stop, Some(Outcome::Error(_))) {
            for s in pending_rejections.drain(..) {
                push_line(&mut skipped, &s);
                stats.add_skipped(s.reason);
                c.skipped += 1;
                done += 1;
            }
        }
        if let Err(e) = journal.append(&out, &skipped) {
            stop = Some(Outcome::Error(e));
            set.abort_all();
        }
        if last_stats.elapsed() >= opts.stats_every {
            let _ = journal.write_stats(&summary(&stats, &c, &resumed.previous_drops, false, start.elapsed()));
            last_stats = Instant::now();
        }
    }
    c.requests = shared.requests.load(Ordering::SeqCst);
    c.retries = shared.retries.load(Ordering::Relaxed);
    let outcome = match stop {
        Some(o) => o,
        None if c.failed > 0 || done < total => Outcome::Incomplete { last_error },
        None => Outcome::Complete,
    };
    let complete = matches!(outcome, Outcome::Complete);
    let summary = summary(&stats, &c, &resumed.previous_drops, complete, start.elapsed());
    let outcome = match (journal.write_stats(&summary), outcome) {
        (Err(e), Outcome::Complete) => Outcome::Error(e),
        (_, o) => o,
    };
    Report { outcome, counters: c, stats, done, total, elapsed: start.elapsed(), summary }
}

fn push_line<T: Serialize>(buf: &mut Vec<u8>, line: &T) {
    serde_json::to_writer(&mut *buf, line).expect("lines serialise");
    buf.push(b'\n');
}

/// The stats file: totals over the files, this run's counters, and drop counts over all runs
/// with the number of sentences they cover.
fn summary(
    stats: &Stats,
    c: &RunCounters,
    previous: &(Drops, u64),
    complete: bool,
    elapsed: Duration,
) -> serde_json::Value {
    let mut all = previous.0;
    all.add(&c.drops);
    serde_json::json!({
        "complete": complete,
        "totals": stats.to_json(50),
        "this_run": { "seconds": elapsed.as_secs_f64(), "counters": c },
        "drops_all_runs": all,
        "drops_cover_sentences": previous.1 + c.written + c.skipped,
    })
}
