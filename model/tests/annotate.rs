//! `nuner annotate` against a real chat-completions server on 127.0.0.1: good, malformed, slow,
//! 429/500 and dropped replies, spend guards, refusals, the API key, and kill-and-resume.

mod annotate_support;

use annotate_support::server::{Action, Request, Server};
use annotate_support::*;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

#[test]
fn good_and_malformed_replies_become_spans_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("docs.jsonl");
    std::fs::write(
        &input,
        "{\"body\": \"Zoë Müller moved from Kraków to 東京 in 2019. She met Bob.\", \"id\": 1}\n\
         {\"body\": \"Nothing to see here.\"}\n{\"body\": \"New York City is in New York.\"}\n\
         {\"body\": \"Garbled reply ahead.\"}\n{\"body\": \"Empty content.\"}\n",
    )
    .unwrap();
    let replies: HashMap<&str, Option<&str>> = HashMap::from([
        ("Zoë Müller moved from Kraków to 東京 in 2019.", Some(
            "<think>Let me see. Kraków <> city <> no</think>\nSure! Entities:\n```text\n1. Zoë Müller <> person <> a human\n\
             2. kraków <> city <> a Polish city <> with <> inside\n3)  東京 <> capital city <> Japan's capital\n\
             4. Paris <> city <> hallucinated\n5. 2019 <> concept <> generic\n6. Zoë Müller <> person <> again\n```")),
        ("She met Bob.", Some("Bob <> person <> x\nBob <> given name <> y")),
        ("Nothing to see here.", Some("I could not find any entity in this sentence.")),
        ("New York City is in New York.", Some("New York City <> city <> a\nNew York <> state <> b\n <> missing <> entity")),
        ("Garbled reply ahead.", Some("Garbled <> \nreply ahead <> tone\n<><><>")),
        ("Empty content.", None),
    ]);
    let server = Server::start(move |r: &Request| match replies.get(r.sentence.as_str()) {
        Some(Some(c)) => Action::Reply(c.to_string()),
        Some(None) => Action::ReplyWith { content: None, tokens: None, finish: "length" },
        None => Action::Status(500, vec![], format!("unexpected sentence {:?}", r.sentence)),
    });
    let output = dir.path().join("out.jsonl");
    let o = annotate(&server, &input, &output, &["--text-field", "body", "--concurrency", "3"]);
    assert_ok(&o);
    assert!(o.stdout.is_empty());
    let out = lines(&output);
    let texts: Vec<&str> = out.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Zoë Müller moved from Kraków to 東京 in 2019.",
            "She met Bob.",
            "New York City is in New York.",
            "Garbled reply ahead."
        ]
    );
    let z = &out[0];
    let got: Vec<(String, &str, &str)> = (0..z.spans.len())
        .map(|k| (span_text(z, k), z.spans[k].label.as_str(), z.spans[k].description.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Zoë Müller".into(), "person", "a human"),
            ("Kraków".into(), "city", "a Polish city <> with <> inside"),
            ("東京".into(), "capital city", "Japan's capital"),
        ]
    );
    assert_eq!((z.spans[1].start, z.spans[1].end, z.spans[2].start, z.spans[2].end), (22, 28, 32, 34));
    assert_eq!(out[1].spans.len(), 2, "one entity, two concepts: both kept");
    let ny: Vec<_> = out[2].spans.iter().map(|s| (s.start, s.end, s.label.as_str())).collect();
    assert_eq!(ny, vec![(0, 8, "state"), (0, 13, "city"), (20, 28, "state")], "nested spans kept");
    assert_eq!(out[3].spans.len(), 1);
    let sk = skipped(&output);
    let reasons: HashSet<(String, String)> =
        sk.iter().map(|s| (s["text"].as_str().unwrap().into(), s["reason"].as_str().unwrap().into())).collect();
    assert_eq!(
        reasons,
        HashSet::from([
            ("Nothing to see here.".into(), "no_annotations".into()),
            ("Empty content.".into(), "no_annotations".into()),
        ])
    );
    let st = stats(&output);
    assert_eq!(st["complete"], true);
    assert_eq!(st["totals"]["sentences"], 4);
    assert_eq!(st["totals"]["spans"], 9);
    assert_eq!(st["totals"]["skipped"]["no_annotations"], 2);
    let d = &st["this_run"]["counters"]["drops"];
    assert_eq!(
        (d["not_found"].as_u64(), d["generic_concept"].as_u64(), d["duplicate"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!((d["malformed"].as_u64(), d["chatter"].as_u64()), (Some(3), Some(2)));
    assert_eq!(st["this_run"]["counters"]["truncated_replies"], 1);
    // Requests carry the model, the settings and the sentence; no key was set, none is sent.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 6, "one request per sentence");
    for r in &reqs {
        assert_eq!(r.body["model"], "test-model");
        assert_eq!((r.body["temperature"].as_f64(), r.body["max_tokens"].as_u64()), (Some(0.0), Some(1024)));
        assert!(r.auth.is_none());
    }
    // The data layer reads the lines (ignoring id and description) that have no overlaps.
    let read =
        nuner::data::read_examples(&std::fs::read(&output).unwrap(), "out", nuner::data::Format::Jsonl, true).unwrap();
    assert_eq!(read.examples.len(), 2);
    assert_eq!(read.warnings.len(), 2, "{:?}", read.warnings);
    // Done: a second run sends nothing.
    assert_ok(&annotate(&server, &input, &output, &["--text-field", "body"]));
    assert_eq!(server.requests().len(), 6);
}

#[test]
fn transient_failures_are_retried_and_each_sentence_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_corpus(dir.path(), 12);
    let server = Server::start(|r: &Request| {
        let k: usize = r.sentence[5..].split(':').next().unwrap().parse().unwrap();
        if r.attempt > 0 {
            return Action::Reply(oracle(&r.sentence));
        }
        match k % 6 {
            0 => Action::Status(429, vec![("Retry-After", "1".into())], r#"{"error":{"message":"slow down"}}"#.into()),
            1 => Action::Status(500, vec![], "internal error".into()),
            2 => Action::DropMidReply,
            3 => Action::Slow(Duration::from_secs(4), Box::new(Action::Reply(oracle(&r.sentence)))),
            4 => Action::NotJson,
            _ => Action::Status(503, vec![], String::new()),
        }
    });
    let output = dir.path().join("out.jsonl");
    let t = Instant::now();
    let o = annotate(&server, &input, &output, &["--concurrency", "4", "--timeout", "1"]);
    assert_ok(&o);
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
    let out = lines(&output);
    assert_eq!(out.len(), 12);
    for l in &out {
        assert_eq!(l.text, corpus(12).lines().nth(l.id.unwrap()).unwrap());
        assert!(l.spans.len() >= 3, "{l:?}");
    }
    let reqs = server.requests();
    assert_eq!(reqs.len(), 24, "each sentence: one failure, one success");
    for r in reqs.iter().filter(|r| r.attempt == 0 && r.sentence.starts_with("Item 0:")) {
        let retry = reqs.iter().find(|x| x.sentence == r.sentence && x.attempt == 1).unwrap();
        assert!(retry.at - r.at >= Duration::from_millis(950), "Retry-After: 1 honoured: {:?}", retry.at - r.at);
    }
    assert_eq!(stats(&output)["this_run"]["counters"]["retries"], 12);
}

#[test]
fn rejections_auth_errors_and_persistent_failures() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_corpus(dir.path(), 6);
    // 400 for one sentence: skipped with the server's message; the others annotated.
    let server = Server::start(|r: &Request| {
        if r.sentence.starts_with("Item 2:") {
            Action::Status(400, vec![], r#"{"error":{"message":"context length exceeded"}}"#.into())
        } else {
            Action::Reply(oracle(&r.sentence))
        }
    });
    let output = dir.path().join("a.jsonl");
    assert_ok(&annotate(&server, &input, &output, &[]));
    assert_eq!(lines(&output).len(), 5);
    let sk = skipped(&output);
    assert_eq!((sk.len(), sk[0]["id"].as_u64(), sk[0]["reason"].as_str()), (1, Some(2), Some("rejected")));
    assert!(sk[0]["detail"].as_str().unwrap().contains("context length exceeded"));

    // 401: stops at once, nothing written.
    let server =
        Server::start(|_: &Request| Action::Status(401, vec![], r#"{"error":{"message":"invalid key"}}"#.into()));
    let output = dir.path().join("b.jsonl");
    let o = annotate(&server, &input, &output, &["--concurrency", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("HTTP 401: invalid key"), "{}", stderr(&o));
    assert!(server.requests().len() <= 2);
    assert!(lines(&output).is_empty());

    // One sentence always fails: the others are written, the run says so; a rerun completes.
    let server = Server::start(|r: &Request| {
        if r.sentence.starts_with("Item 4:") && r.attempt < 3 {
            Action::Status(502, vec![], "bad gateway".into())
        } else {
            Action::Reply(oracle(&r.sentence))
        }
    });
    let output = dir.path().join("c.jsonl");
    let o = annotate(&server, &input, &output, &["--retries", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("1 sentence(s) failed after 2 retries"), "{}", stderr(&o));
    assert_eq!(lines(&output).len(), 5);
    let before = server.requests().len();
    assert_ok(&annotate(&server, &input, &output, &["--retries", "2"]));
    let again: Vec<String> = server.requests()[before..].iter().map(|r| r.sentence.clone()).collect();
    assert_eq!(again.len(), 1);
    assert!(again[0].starts_with("Item 4:"));
    assert_eq!(lines(&output).len(), 6);
}

#[test]
fn spend_guards_stop_cleanly_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_corpus(dir.path(), 20);
    let server = Server::start(|r: &Request| Action::Reply(oracle(&r.sentence)));
    let reference = dir.path().join("ref.jsonl");
    assert_ok(&annotate(&server, &input, &reference, &[]));
    server.clear();
    let output = dir.path().join("out.jsonl");
    let o = annotate(&server, &input, &output, &["--max-requests", "7", "--concurrency", "3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("--max-requests 7 reached"));
    assert_eq!((server.requests().len(), lines(&output).len()), (7, 7));
    let o = annotate(&server, &input, &output, &["--max-tokens", "250", "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(lines(&output).len(), 10, "100 tokens per reply: stops after the 3rd reply");
    assert_ok(&annotate(&server, &input, &output, &["--limit", "15"]));
    assert_eq!(lines(&output).len(), 15);
    assert_ok(&annotate(&server, &input, &output, &[]));
    assert_eq!(server.requests().len(), 20, "no sentence sent twice");
    assert_eq!(lines(&output), lines(&reference));
}

#[test]
fn refuses_another_runs_output_and_a_second_writer() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_corpus(dir.path(), 5);
    let server = Server::start(|r: &Request| Action::Reply(oracle(&r.sentence)));
    let output = dir.path().join("out.jsonl");
    assert_ok(&annotate(&server, &input, &output, &["--limit", "2"]));
    let before = std::fs::read(&output).unwrap();
    let other = dir.path().join("other.txt");
    std::fs::write(&other, corpus(6)).unwrap();
    let o = annotate(&server, &other, &output, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("written by a different run (the input now splits into 6 sentences"), "{}", stderr(&o));
    let o = annotate(&server, &input, &output, &["--llm-model", "another"]);
    assert!(stderr(&o).contains("--llm-model was \"test-model\", now \"another\""), "{}", stderr(&o));
    let prompt = dir.path().join("p.txt");
    std::fs::write(&prompt, "List entities as entity <> concept <> description.\nSentence: {sentence}\n").unwrap();
    let o = annotate(&server, &input, &output, &["--prompt", prompt.to_str().unwrap()]);
    assert!(stderr(&o).contains("the prompt template changed"), "{}", stderr(&o));
    let lock = std::fs::OpenOptions::new().append(true).open(&output).unwrap();
    lock.lock().unwrap();
    let o = annotate(&server, &input, &output, &[]);
    assert!(stderr(&o).contains("another process is writing this output"), "{}", stderr(&o));
    drop(lock);
    assert_eq!(std::fs::read(&output).unwrap(), before, "refused runs change nothing");
    let o = annotate(&server, &input, &input, &[]);
    assert!(stderr(&o).contains("--output is the input file"));
}

#[test]
fn api_key_is_sent_but_never_printed_or_written() {
    const KEY: &str = "sk-test-S3CRET-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let input = write_corpus(dir.path(), 6);
    let server = Server::start(|r: &Request| {
        let auth = r.auth.clone().unwrap_or_default();
        if auth != format!("Bearer {KEY}") {
            return Action::Status(401, vec![], format!("bad key {auth}"));
        }
        // The server echoes the header back in errors: it must be redacted everywhere.
        match (r.sentence.starts_with("Item 1:"), r.sentence.starts_with("Item 2:"), r.attempt) {
            (true, _, 0) => Action::Status(500, vec![], format!("oops, your header was {auth}")),
            (_, true, _) => Action::Status(400, vec![], format!("{{\"error\":{{\"message\":\"rejected {auth}\"}}}}")),
            _ => Action::Reply(oracle(&r.sentence)),
        }
    });
    let output = dir.path().join("out.jsonl");
    let o = command(&server, &input, &output, &[]).env("NUNER_API_KEY", KEY).output().unwrap();
    assert_ok(&o);
    assert!(stderr(&o).contains("API key: from NUNER_API_KEY"));
    assert_eq!(lines(&output).len(), 5);
    let sk = skipped(&output);
    assert!(sk[0]["detail"].as_str().unwrap().contains("rejected Bearer <redacted>"), "{sk:?}");
    // Fallback variable, and a wrong key: the 401 message echoes it, redacted.
    let out2 = dir.path().join("out2.jsonl");
    let o2 = command(&server, &input, &out2, &["--limit", "1"]).env("OPENAI_API_KEY", KEY).output().unwrap();
    assert_ok(&o2);
    let out3 = dir.path().join("out3.jsonl");
    let o3 = command(&server, &input, &out3, &[]).env("NUNER_API_KEY", "sk-wrong-S3CRET-9").output().unwrap();
    assert_eq!(o3.status.code(), Some(1));
    assert!(stderr(&o3).contains("bad key Bearer <redacted>"), "{}", stderr(&o3));
    let mut everything = Vec::new();
    for o in [&o, &o2, &o3] {
        everything.extend_from_slice(&o.stdout);
        everything.extend_from_slice(&o.stderr);
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        everything.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(!String::from_utf8_lossy(&everything).contains("S3CRET"), "the key leaked");
}

#[test]
fn killed_and_resumed_equals_an_uninterrupted_run() {
    let n = 200;
    let dir = tempfile::tempdir().unwrap();
    let input = write_corpus(dir.path(), n);
    let fast = Server::start(|r: &Request| Action::Reply(oracle(&r.sentence)));
    let reference = dir.path().join("ref.jsonl");
    assert_ok(&annotate(&fast, &input, &reference, &["--concurrency", "4"]));
    assert_eq!(lines(&reference).len(), n);

    let slow = Server::start(|r: &Request| {
        let ms = 10 + r.sentence.len() as u64 % 20;
        Action::Slow(Duration::from_millis(ms), Box::new(Action::Reply(oracle(&r.sentence))))
    });
    let output = dir.path().join("out.jsonl");
    let args = ["--concurrency", "3"];
    let mut child = spawn(&slow, &input, &output, &args);
    let done1 = kill_when(&mut child, &output, 40);
    assert!(done1.len() < n);
    let seen1 = slow.requests().len();

    // Second run: killed too. Then a half line, as a kill in the middle of a write leaves.
    let mut child = spawn(&slow, &input, &output, &args);
    let done2 = kill_when(&mut child, &output, done1.len() + 40);
    let second: Vec<Request> = slow.requests()[seen1..].to_vec();
    assert!(
        second.iter().all(|r| !done1.contains(&id_of(&r.sentence))),
        "a sentence with a complete line was sent again"
    );
    assert!(done2.is_superset(&done1));
    let seen2 = slow.requests().len();
    let missing = (0..n).find(|i| !done2.contains(i)).unwrap();
    let half = serde_json::to_string(&lines(&reference)[missing]).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&output).unwrap();
    std::io::Write::write_all(&mut f, &half.as_bytes()[..half.len() / 2]).unwrap();
    drop(f);

    let o = command(&slow, &input, &output, &args).output().unwrap();
    assert_ok(&o);
    assert!(stderr(&o).contains("cut off a partial last line"), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("resuming: {} of {n} sentences already done", done2.len())), "{}", stderr(&o));
    let third: Vec<usize> = slow.requests()[seen2..].iter().map(|r| id_of(&r.sentence)).collect();
    assert_eq!(third.len(), n - done2.len(), "exactly the sentences without a complete line were sent");
    assert!(third.iter().all(|id| !done2.contains(id)));
    assert!(third.contains(&missing));
    assert_eq!(lines(&output), lines(&reference), "same lines as an uninterrupted run");
    let st = stats(&output);
    assert_eq!((st["complete"].as_bool(), st["totals"]["sentences"].as_u64()), (Some(true), Some(n as u64)));
}
