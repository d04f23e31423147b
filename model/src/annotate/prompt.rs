//! The prompt: a template with one placeholder, `{sentence}`, sent as the single user message
//! of a chat completion.
//!
//! The default ([`DEFAULT_TEMPLATE`], `model/src/annotate/prompt.txt`) follows the paper's
//! procedure: label as many entities, concepts and ideas as possible, invent precise types
//! (abstract ones included), one line per entity as `entity <> concept <> description`.
//!
//! Template syntax:
//! - `{sentence}` is replaced by the sentence (required, may appear more than once);
//! - `{{` and `}}` are literal braces;
//! - any other `{name}` (a letter or `_`, then letters, digits, `_`) is an error naming the
//!   line, so that a typo such as `{sentense}` is caught before any request is sent;
//! - every other character, a lone `{` or `}` included (JSON examples), is kept as written.

use sha2::{Digest, Sha256};

use super::error::AnnotateError;

/// The default prompt, in the paper's spirit.
pub const DEFAULT_TEMPLATE: &str = include_str!("prompt.txt");

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Sentence,
}

/// A parsed prompt template; see the module documentation for the syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    source: String,
}

impl Template {
    /// Parses `text`; `name` labels errors (`name:line: ...`).
    pub fn parse(text: &str, name: &str) -> Result<Self, AnnotateError> {
        let err = |at: usize, message: String| AnnotateError::Template {
            file: name.to_string(),
            line: text[..at].matches('\n').count() + 1,
            message,
        };
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        let mut has_sentence = false;
        while let Some(i) = rest.find(['{', '}']) {
            lit.push_str(&rest[..i]);
            let tail = &rest[i..];
            let at = text.len() - tail.len();
            if tail.starts_with("{{") || tail.starts_with("}}") {
                lit.push_str(&tail[..1]);
                rest = &tail[2..];
            } else if let Some(name_len) = placeholder_len(tail) {
                let key = &tail[1..1 + name_len];
                if key != "sentence" {
                    return Err(err(
                        at,
                        format!("unknown placeholder {{{key}}}: the template knows {{sentence}}; write {{{{ for a literal brace"),
                    ));
                }
                if !lit.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut lit)));
                }
                parts.push(Part::Sentence);
                has_sentence = true;
                rest = &tail[name_len + 2..];
            } else {
                lit.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        if !has_sentence {
            return Err(AnnotateError::Template {
                file: name.to_string(),
                line: 1,
                message: "the template has no {sentence} placeholder: where should the sentence go?".into(),
            });
        }
        Ok(Self { parts, source: text.to_string() })
    }

    /// The default template ([`DEFAULT_TEMPLATE`]).
    pub fn default_prompt() -> Self {
        Self::parse(DEFAULT_TEMPLATE, "prompt.txt").expect("the built-in template is valid")
    }

    /// The prompt for one sentence.
    pub fn render(&self, sentence: &str) -> String {
        let mut out = String::with_capacity(self.source.len() + sentence.len());
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Sentence => out.push_str(sentence),
            }
        }
        out
    }

    /// SHA-256 (hex) of the template text, recorded with a run so that a changed prompt is
    /// noticed when resuming.
    pub fn fingerprint(&self) -> String {
        hex(&Sha256::digest(self.source.as_bytes()))
    }
}

/// Length of the name of a `{name}` placeholder at the start of `s`, if there is one.
fn placeholder_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix('{')?;
    let end = body.find('}')?;
    let name = &body[..end];
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok = (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(end)
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let t = Template::parse("Say {{hi}} to {sentence}. {\"a\": 1} {sentence}!", "t.txt").unwrap();
        assert_eq!(t.render("Bob"), "Say {hi} to Bob. {\"a\": 1} Bob!");
        assert_eq!(Template::parse("{sentence}", "t").unwrap().render("é 🙂"), "é 🙂");
        assert_eq!(Template::parse("{ sentence } {sentence}}", "t").unwrap().render("x"), "{ sentence } x}");
    }

    #[test]
    fn errors_name_the_line() {
        let e = Template::parse("one\ntwo {sentense}\n{sentence}", "p.txt").unwrap_err().to_string();
        assert!(e.starts_with("p.txt:2: unknown placeholder {sentense}"), "{e}");
        let e = Template::parse("no placeholder {{sentence}}", "p.txt").unwrap_err().to_string();
        assert!(e.contains("no {sentence} placeholder"), "{e}");
    }

    #[test]
    fn default_follows_the_paper() {
        let t = Template::default_prompt();
        let p = t.render("Anna flew to Paris.");
        assert!(p.contains("entity text <> entity concept <> description of the concept"));
        assert!(p.trim_end().ends_with("Sentence: Anna flew to Paris."));
        assert_eq!(t.fingerprint().len(), 64);
        assert_ne!(t.fingerprint(), Template::parse("{sentence}", "t").unwrap().fingerprint());
    }
}
