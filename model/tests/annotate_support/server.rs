//! A scriptable chat-completions server for the `nuner annotate` tests: plain HTTP/1.1 on
//! 127.0.0.1 (a free port), one thread per connection, `Connection: close` on every answer.
//! The script sees each request (the sentence taken from the prompt's last `Sentence: ` line,
//! how many times that sentence was asked before, the Authorization header) and picks an answer.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub sentence: String,
    /// 0 for the first request about this sentence.
    pub attempt: usize,
    pub auth: Option<String>,
    pub body: Value,
    pub at: Instant,
}

/// What the server answers.
pub enum Action {
    /// 200 with this content, usage.total_tokens 100, finish_reason "stop".
    Reply(String),
    /// 200 with content, tokens and finish reason.
    ReplyWith { content: Option<String>, tokens: Option<u64>, finish: &'static str },
    /// Wait, then answer.
    Slow(Duration, Box<Action>),
    /// Any status, extra headers, body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// 200 with a body that is not JSON.
    NotJson,
    /// Headers announce the whole body, half of it is sent, then the connection is closed.
    DropMidReply,
}

type Script = dyn Fn(&Request) -> Action + Send + Sync;

pub struct Server {
    pub url: String,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl Server {
    pub fn start(script: impl Fn(&Request) -> Action + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let (log2, stop2) = (log.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (log, script) = (log2.clone(), script.clone());
                thread::spawn(move || {
                    let _ = handle(conn, &log, &*script);
                });
            }
        });
        Server { url: format!("http://{addr}/v1"), log, stop, addr }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn handle(mut conn: TcpStream, log: &Mutex<Vec<Request>>, script: &Script) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if line.is_empty() {
        return Ok(());
    }
    let (mut length, mut auth) = (0usize, None);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap_or((l, ""));
        match k.to_ascii_lowercase().as_str() {
            "content-length" => length = v.trim().parse().unwrap_or(0),
            "authorization" => auth = Some(v.trim().to_string()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let prompt = body["messages"][0]["content"].as_str().unwrap_or("").to_string();
    let sentence = prompt.rsplit_once("Sentence: ").map(|(_, s)| s.trim_end().to_string()).unwrap_or_default();
    let req = {
        let mut log = log.lock().unwrap();
        let attempt = log.iter().filter(|r| r.sentence == sentence).count();
        let req = Request { sentence, attempt, auth, body, at: Instant::now() };
        log.push(req.clone());
        req
    };
    let mut action = script(&req);
    while let Action::Slow(d, inner) = action {
        thread::sleep(d);
        action = *inner;
    }
    let completion = |content: Option<String>, tokens: Option<u64>, finish: &str| {
        let mut v = json!({
            "id": "chatcmpl-test", "object": "chat.completion", "model": req.body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        });
        if let Some(t) = tokens {
            v["usage"] = json!({"prompt_tokens": t / 2, "completion_tokens": t - t / 2, "total_tokens": t});
        }
        v.to_string()
    };
    let (status, headers, body, drop_half) = match action {
        Action::Reply(c) => (200, vec![], completion(Some(c), Some(100), "stop"), false),
        Action::ReplyWith { content, tokens, finish } => (200, vec![], completion(content, tokens, finish), false),
        Action::Status(code, headers, body) => (code, headers, body, false),
        Action::NotJson => (200, vec![], "<html><body>502 Bad Gateway</body></html>".to_string(), false),
        Action::DropMidReply => (200, vec![], completion(Some("Paris <> city <> x".into()), Some(100), "stop"), true),
        Action::Slow(..) => unreachable!(),
    };
    let mut head = format!(
        "HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    if drop_half {
        conn.write_all(&body.as_bytes()[..body.len() / 2])?;
        conn.flush()?;
        return conn.shutdown(Shutdown::Both);
    }
    conn.write_all(body.as_bytes())?;
    conn.flush()?;
    let _ = conn.shutdown(Shutdown::Write);
    Ok(())
}
