//! An LLM reply → `(entity, concept, description)` triples.
//!
//! The reply is read line by line, tolerant of what chat models add around the answer:
//! - a reasoning block `<think>...</think>` before the answer is removed;
//! - code-fence lines (```` ``` ````, ```` ```text ````) and blank lines are ignored;
//! - list markers are removed: `1.`, `1)`, `(1)`, `-`, `*`, `•`, `#`;
//! - fields are trimmed; wrapping `**`, `__`, `` ` ``, `"`, `'`, `“”`, `‘’` are removed; field
//!   labels such as `Entity:` or `Concept:` are removed;
//! - the separator is `<>` with or without spaces; a description that itself contains `<>`
//!   keeps it (the line is split at the first two separators only);
//! - a line with only `entity <> concept` is accepted with an empty description.
//!
//! Lines without a separator are chatter ("Here are the entities:") and are counted; lines with
//! a separator but no entity or no concept are malformed and counted; an echo of the format line
//! (`entity text <> entity concept <> ...`) is chatter. Nothing here can fail.

use serde::{Deserialize, Serialize};

/// One annotation line of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triple {
    /// The entity text, cleaned of list markers and wrapping quotes.
    pub entity: String,
    /// The entity's text before list markers were removed, when that changed it (a list marker
    /// can be part of a name, as in "2. Bundesliga": the raw form is tried first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_entity: Option<String>,
    /// The concept (entity type), internal whitespace collapsed to single spaces.
    pub concept: String,
    /// The description of the concept (may be empty).
    pub description: String,
}

/// What a reply held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedReply {
    /// The annotation lines, in reply order.
    pub triples: Vec<Triple>,
    /// Non-blank lines without a `<>` separator (or echoing the format line).
    pub chatter: u64,
    /// Lines with a separator but no entity or no concept.
    pub malformed: u64,
}

/// Parses a reply; see the module documentation.
pub fn parse_reply(reply: &str) -> ParsedReply {
    let mut out = ParsedReply::default();
    let body = match reply.rfind("</think>") {
        Some(i) => &reply[i + "</think>".len()..],
        None => reply,
    };
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("```") {
            continue;
        }
        match parse_line(line) {
            Line::Triple(t) => out.triples.push(t),
            Line::Chatter => out.chatter += 1,
            Line::Malformed => out.malformed += 1,
        }
    }
    out
}

enum Line {
    Triple(Triple),
    Chatter,
    Malformed,
}

fn parse_line(line: &str) -> Line {
    let Some((raw_entity, rest)) = line.split_once("<>") else {
        return Line::Chatter;
    };
    let (concept, description) = rest.split_once("<>").unwrap_or((rest, ""));
    let unlisted = strip_list_marker(raw_entity.trim());
    let entity = clean_field(unlisted, &["entity text:", "entity:", "text:"]);
    let concept = collapse_ws(&clean_field(concept, &["entity concept:", "concept:", "type:", "entity type:"]));
    let description = clean_field(description, &["description of the concept:", "description:"]);
    if entity.is_empty() || concept.is_empty() {
        return Line::Malformed;
    }
    let head = entity.to_lowercase();
    if (head == "entity" || head == "entity text") && concept.to_lowercase().contains("concept") {
        return Line::Chatter;
    }
    let raw = clean_field(raw_entity, &[]);
    let raw_entity = (raw != entity && !raw.is_empty()).then_some(raw);
    Line::Triple(Triple { entity, raw_entity, concept, description })
}

/// Removes one leading list marker (`1.`, `1)`, `(1)`, `-`, `*`, `•`, `#`) followed by
/// whitespace.
fn strip_list_marker(s: &str) -> &str {
    let bullets = ['-', '*', '•', '‣', '◦', '·', '+', '–', '—'];
    if let Some(rest) = s.strip_prefix(bullets) {
        if rest.starts_with(char::is_whitespace) {
            return rest.trim_start();
        }
    }
    let hashes = s.trim_start_matches('#');
    if hashes.len() < s.len() && hashes.starts_with(char::is_whitespace) {
        return hashes.trim_start();
    }
    let open = s.strip_prefix('(').unwrap_or(s);
    let digits = open.len() - open.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if (1..=4).contains(&digits) {
        let after = &open[digits..];
        if let Some(rest) = after.strip_prefix(['.', ')', ':']) {
            if rest.starts_with(char::is_whitespace) {
                return rest.trim_start();
            }
        }
    }
    s
}

/// Trims, removes a leading field label (case-insensitive) and wrapping quotes or emphasis.
fn clean_field(s: &str, labels: &[&str]) -> String {
    let mut s = s.trim();
    let lower = s.to_lowercase();
    for label in labels {
        // Only ASCII labels: their byte length is the same in `lower` and in `s`.
        if lower.starts_with(label) {
            s = s[label.len()..].trim_start();
            break;
        }
    }
    loop {
        let before = s;
        for (open, close) in [("**", "**"), ("__", "__"), ("`", "`"), ("\"", "\""), ("'", "'"), ("“", "”"), ("‘", "’")]
        {
            if s.len() > open.len() + close.len() && s.starts_with(open) && s.ends_with(close) {
                s = s[open.len()..s.len() - close.len()].trim();
            }
        }
        if s == before {
            return s.to_string();
        }
    }
}

/// Every run of whitespace (tabs and newlines included) becomes one space.
pub(crate) fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(entity: &str, concept: &str, description: &str) -> Triple {
        Triple { entity: entity.into(), raw_entity: None, concept: concept.into(), description: description.into() }
    }

    #[test]
    fn tolerates_chatter_fences_numbering_and_whitespace() {
        let reply = "Sure! Here are the entities:\n\n```text\n1. Paris  <>  city <> a large city\n\
                     2)   **Anna**<>person<>a human being  \n- \"Eiffel Tower\" <> landmark \t<> a famous tower\n\
                     * Entity: euro <> Concept: currency <> Description: money of the EU\n```\nHope this helps.";
        let p = parse_reply(reply);
        assert_eq!(p.chatter, 2);
        assert_eq!(p.malformed, 0);
        assert_eq!(p.triples[0], Triple { raw_entity: Some("1. Paris".into()), ..t("Paris", "city", "a large city") });
        assert_eq!(p.triples[1].entity, "Anna");
        assert_eq!(p.triples[1].raw_entity.as_deref(), Some("2)   **Anna**"));
        assert_eq!(p.triples[2].entity, "Eiffel Tower");
        assert_eq!(
            p.triples[3],
            Triple { raw_entity: Some("* Entity: euro".into()), ..t("euro", "currency", "money of the EU") }
        );
    }

    #[test]
    fn separators_in_descriptions_and_missing_fields() {
        let p = parse_reply("a <> b <> c <> d\nx <> y\n <> z <> w\nq <>  <> r\njust text\nentity text <> entity concept <> description of the concept");
        assert_eq!(p.triples, vec![t("a", "b", "c <> d"), t("x", "y", "")]);
        assert_eq!((p.chatter, p.malformed), (2, 2));
    }

    #[test]
    fn strips_reasoning_and_keeps_names_that_look_like_markers() {
        let p = parse_reply("<think>Paris <> city <> no</think>\n2. Bundesliga <> football league <> German league\n1984 <> novel <> book");
        assert_eq!(p.triples.len(), 2);
        assert_eq!(p.triples[0].entity, "Bundesliga");
        assert_eq!(p.triples[0].raw_entity.as_deref(), Some("2. Bundesliga"));
        assert_eq!(p.triples[1], t("1984", "novel", "book"));
        assert_eq!(parse_reply(""), ParsedReply::default());
    }

    #[test]
    fn unicode_and_whitespace_in_concepts() {
        let p = parse_reply("• 東京 <> 首都\tcity <> capital of Japan\n“Zoë” <> ‘given name’ <> —");
        assert_eq!(
            p.triples[0],
            Triple { raw_entity: Some("• 東京".into()), ..t("東京", "首都 city", "capital of Japan") }
        );
        assert_eq!(p.triples[1], t("Zoë", "given name", "—"));
    }
}
