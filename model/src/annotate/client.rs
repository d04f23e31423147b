//! One chat-completions request to an OpenAI-compatible server, and the classification of
//! what can go wrong (retry, skip the sentence, or stop the run). The retry loop itself, with
//! its budget, is in [`super::run`].
//!
//! Requests go to `ENDPOINT/chat/completions` (an endpoint already ending in
//! `/chat/completions` is used as is) with the prompt as the single user message, `model`,
//! `temperature`, `max_tokens`, `stream: false`, and any extra fields given (e.g.
//! `{"seed": 1}` or a server's `chat_template_kwargs`). The reply's text is
//! `choices[0].message.content`; `usage.total_tokens` feeds the token budget.
//!
//! The API key is sent as `Authorization: Bearer KEY` in a header marked sensitive; it is held
//! in an [`ApiKey`] whose `Debug` prints no key, and every message built from a server's answer
//! or a transport error passes through [`ChatClient::redact`], so the key never reaches a log,
//! an error or a file even when a server echoes it.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};

use super::error::AnnotateError;
use super::excerpt;

/// Environment variables read for the key, in order.
pub const KEY_VARIABLES: [&str; 2] = ["NUNER_API_KEY", "OPENAI_API_KEY"];

/// A secret API key: never displayed.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key given directly (surrounding whitespace removed).
    pub fn new(key: &str) -> Self {
        Self(key.trim().to_string())
    }

    /// The first non-empty variable of [`KEY_VARIABLES`], and its name.
    pub fn from_env() -> Option<(Self, &'static str)> {
        KEY_VARIABLES.iter().find_map(|&var| {
            let v = std::env::var(var).ok()?;
            (!v.trim().is_empty()).then(|| (Self::new(&v), var))
        })
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How to reach the server and what to ask it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The API base, e.g. `http://127.0.0.1:8000/v1`.
    pub endpoint: String,
    /// The model name the server serves.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f32,
    /// Most tokens in one reply.
    pub max_tokens: u32,
    /// Time limit of one request, connection to last byte.
    pub timeout: Duration,
    /// Extra fields merged into every request body (they win over the defaults).
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Bearer token, if any.
    pub api_key: Option<ApiKey>,
}

/// A successful reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `choices[0].message.content` (empty when null).
    pub content: String,
    /// `usage.total_tokens`, when the server reports it.
    pub total_tokens: Option<u64>,
    /// `choices[0].finish_reason` (`"length"` means the reply was cut by `max_tokens`).
    pub finish_reason: Option<String>,
}

/// Why a request did not produce a [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth retrying: HTTP 408, 409, 425, 429 and 5xx, a timeout, a connection refused or
    /// dropped mid-reply, a 200 whose body is not a chat completion.
    Transient {
        /// What happened (key redacted).
        message: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The server refuses this request but not others (HTTP 400, 413, 422): skip the sentence.
    Rejected {
        /// What the server said (key redacted).
        message: String,
    },
    /// The server will refuse every request (401, 403, 404, other 4xx): stop the run.
    Fatal {
        /// What the server said, and a hint (key redacted).
        message: String,
    },
}

/// An HTTP client for one endpoint and model (its `Debug` shows no key).
#[derive(Debug)]
pub struct ChatClient {
    http: reqwest::Client,
    url: String,
    body: serde_json::Map<String, serde_json::Value>,
    key: Option<ApiKey>,
}

impl ChatClient {
    /// Checks the endpoint and builds the client.
    pub fn new(config: ClientConfig) -> Result<Self, AnnotateError> {
        let opt = |message: String| AnnotateError::Option { option: "--endpoint".into(), message };
        let base = config.endpoint.trim().trim_end_matches('/');
        let url =
            if base.ends_with("/chat/completions") { base.to_string() } else { format!("{base}/chat/completions") };
        let parsed = reqwest::Url::parse(&url).map_err(|e| opt(format!("{url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(opt(format!("{url:?} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(30)))
            .user_agent(concat!("nuner/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| opt(format!("cannot build an HTTP client: {e}")))?;
        let mut body = serde_json::Map::new();
        body.insert("model".into(), config.model.into());
        body.insert("temperature".into(), serde_json::json!(config.temperature));
        body.insert("max_tokens".into(), config.max_tokens.into());
        body.insert("stream".into(), false.into());
        body.extend(config.extra);
        Ok(Self { http, url, body, key: config.api_key })
    }

    /// The chat-completions URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The request body for a prompt.
    pub fn request_body(&self, prompt: &str) -> Vec<u8> {
        let mut body = self.body.clone();
        body.insert("messages".into(), serde_json::json!([{ "role": "user", "content": prompt }]));
        serde_json::to_vec(&body).expect("a JSON map serialises")
    }

    /// `text` with every occurrence of the API key replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(ApiKey(k)) if !k.is_empty() => text.replace(k.as_str(), "<redacted>"),
            _ => text.to_string(),
        }
    }

    /// Sends one request (no retry).
    pub async fn complete(&self, prompt: &str) -> Result<Reply, Failure> {
        let mut req =
            self.http.post(&self.url).header(CONTENT_TYPE, "application/json").body(self.request_body(prompt));
        if let Some(ApiKey(k)) = &self.key {
            let mut v = HeaderValue::from_str(&format!("Bearer {k}")).map_err(|_| Failure::Fatal {
                message: "the API key contains characters that cannot be sent in a header".into(),
            })?;
            v.set_sensitive(true);
            req = req.header(AUTHORIZATION, v);
        }
        let transient = |message: String| Failure::Transient { message, retry_after: None };
        let resp = req.send().await.map_err(|e| transient(self.redact(&describe(&e))))?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let bytes = resp.bytes().await.map_err(|e| transient(self.redact(&describe(&e))))?;
        if status == 200 {
            return parse_completion(&bytes).map_err(|m| transient(self.redact(&m)));
        }
        let said = self.redact(&server_message(&bytes));
        let message = format!("HTTP {status}: {said}");
        Err(match status {
            408 | 409 | 425 | 429 | 500..=599 => Failure::Transient { message, retry_after },
            400 | 413 | 422 => Failure::Rejected { message },
            401 | 403 => Failure::Fatal { message: format!("{message} (check NUNER_API_KEY or OPENAI_API_KEY)") },
            404 => Failure::Fatal {
                message: format!("{message} (is --endpoint the API base, e.g. http://127.0.0.1:8000/v1, and --llm-model a model it serves?)"),
            },
            200..=299 => Failure::Transient { message, retry_after },
            _ => Failure::Fatal { message },
        })
    }
}

/// A transport error with its causes ("error sending request: connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() { format!("timed out: {e}") } else { e.to_string() };
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        src = s.source();
    }
    msg
}

/// The reply of a chat completion, or why the body is not one.
pub fn parse_completion(body: &[u8]) -> Result<Reply, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!("HTTP 200 but the body is not JSON ({e}): {}", excerpt(&String::from_utf8_lossy(body), 200))
    })?;
    if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
        return Err(format!("HTTP 200 with an error: {}", excerpt(&err.to_string(), 300)));
    }
    let choice =
        v.get("choices").and_then(|c| c.get(0)).ok_or_else(|| "HTTP 200 but the reply has no choices".to_string())?;
    let content = match choice.get("message").and_then(|m| m.get("content")) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => return Err(format!("message.content is not a string: {}", excerpt(&other.to_string(), 100))),
    };
    Ok(Reply {
        content,
        total_tokens: v.get("usage").and_then(|u| u.get("total_tokens")).and_then(serde_json::Value::as_u64),
        finish_reason: choice.get("finish_reason").and_then(|f| f.as_str()).map(str::to_string),
    })
}

/// The server's own words from an error body: `error.message`, `error`, `message`, `detail`,
/// or the start of the body.
fn server_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let candidates = [v.pointer("/error/message"), v.get("error"), v.get("message"), v.get("detail")];
        if let Some(found) = candidates.into_iter().flatten().find(|x| !x.is_null()) {
            let text = found.as_str().map(str::to_string).unwrap_or_else(|| found.to_string());
            return excerpt(&text, 300);
        }
    }
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        "(empty body)".into()
    } else {
        excerpt(text.trim(), 300)
    }
}

/// `Retry-After` as delay-seconds (integer or decimal). HTTP dates are not read (the backoff
/// applies instead).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// Exponential backoff with jitter: attempt `n` (0-based) waits a pseudo-random time in
/// `[d/2, d]` with `d = min(cap, base · 2ⁿ)`; `seed` (the sentence id) decorrelates requests
/// that failed together.
pub fn backoff(base: Duration, cap: Duration, attempt: u32, seed: u64) -> Duration {
    let d = base.saturating_mul(1u32 << attempt.min(20)).min(cap);
    let mut z = seed.wrapping_add(u64::from(attempt)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
    d.mul_f64(0.5 + 0.5 * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(endpoint: &str, key: Option<&str>) -> Result<ChatClient, AnnotateError> {
        ChatClient::new(ClientConfig {
            endpoint: endpoint.into(),
            model: "m".into(),
            temperature: 0.0,
            max_tokens: 10,
            timeout: Duration::from_secs(1),
            extra: serde_json::from_str(r#"{"seed": 3, "temperature": 0.5}"#).unwrap(),
            api_key: key.map(ApiKey::new),
        })
    }

    #[test]
    fn urls_bodies_and_redaction() {
        let c = client("http://127.0.0.1:8000/v1/", Some(" sk-secret ")).unwrap();
        assert_eq!(c.url(), "http://127.0.0.1:8000/v1/chat/completions");
        assert_eq!(client("https://x.io/v1/chat/completions", None).unwrap().url(), "https://x.io/v1/chat/completions");
        assert!(client("127.0.0.1:8000", None).is_err());
        assert!(client("ftp://x/v1", None).unwrap_err().to_string().starts_with("--endpoint:"));
        let body: serde_json::Value = serde_json::from_slice(&c.request_body("hi")).unwrap();
        assert_eq!(body["messages"][0]["content"], "hi");
        assert_eq!((body["seed"].as_u64(), body["temperature"].as_f64()), (Some(3), Some(0.5)));
        assert_eq!(c.redact("key sk-secret here"), "key <redacted> here");
        assert_eq!(format!("{:?}", ApiKey::new("sk-secret")), "ApiKey(<redacted>)");
    }

    #[test]
    fn completions_and_errors() {
        let ok = br#"{"choices":[{"message":{"role":"assistant","content":"a <> b <> c"},"finish_reason":"length"}],"usage":{"total_tokens":42}}"#;
        let r = parse_completion(ok).unwrap();
        assert_eq!(
            (r.content.as_str(), r.total_tokens, r.finish_reason.as_deref()),
            ("a <> b <> c", Some(42), Some("length"))
        );
        assert_eq!(parse_completion(br#"{"choices":[{"message":{"content":null}}]}"#).unwrap().content, "");
        assert!(parse_completion(b"<html>").unwrap_err().contains("not JSON"));
        assert!(parse_completion(br#"{"choices":[]}"#).unwrap_err().contains("no choices"));
        assert!(parse_completion(br#"{"error":{"message":"boom"}}"#).unwrap_err().contains("boom"));
        assert_eq!(server_message(br#"{"error":{"message":"model not found"}}"#), "model not found");
        assert_eq!(server_message(br#"{"detail":"bad"}"#), "bad");
        assert_eq!(server_message(b""), "(empty body)");
    }

    #[test]
    fn retry_after_and_backoff() {
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        let (base, cap) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 0..8 {
            let d = (0..50).map(|s| backoff(base, cap, attempt, s)).collect::<Vec<_>>();
            let full = (base * (1 << attempt)).min(cap);
            assert!(d.iter().all(|&x| x >= full / 2 && x <= full), "attempt {attempt}: {d:?}");
            assert!(d.iter().any(|&x| x != d[0]), "jittered");
        }
        assert_eq!(backoff(base, cap, 3, 9), backoff(base, cap, 3, 9));
    }
}
