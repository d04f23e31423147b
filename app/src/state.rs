//! The annotation workspace: documents with their labels and suggestions, entity types, and
//! an undo history. Plain data (serde), so it persists as JSON and is tested natively.
//!
//! Overlap policy: labels are flat. A new label replaces every label it overlaps; an accepted
//! suggestion likewise.

use nuner::data::{Example, Span};
use serde::{Deserialize, Serialize};

/// Label state of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Status {
    /// Not looked at.
    #[default]
    New,
    /// Labelled by a person (its spans are training data).
    Labelled,
}

/// One document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// Stable id.
    pub id: u64,
    /// The text.
    pub text: String,
    /// Labels (character offsets, sorted, non-overlapping).
    pub spans: Vec<Span>,
    /// Model suggestions not yet accepted or rejected.
    #[serde(default)]
    pub suggestions: Vec<Span>,
    /// Label state.
    #[serde(default)]
    pub status: Status,
}

/// An entity type and its colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityType {
    /// Name (the label).
    pub name: String,
    /// CSS colour.
    pub color: String,
}

/// Documents and types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Workspace {
    /// Documents in order.
    pub docs: Vec<Doc>,
    /// Entity types in the order of keys 1–9.
    pub types: Vec<EntityType>,
    /// Next document id.
    pub next_id: u64,
}

/// Colours given to new types, in turn.
pub const PALETTE: [&str; 10] =
    ["#f4a261", "#8ecae6", "#90be6d", "#f9c74f", "#c77dff", "#ff8fab", "#4cc9f0", "#b5838d", "#a3b18a", "#ffb703"];

fn overlaps(a: &Span, b: &Span) -> bool {
    a.start < b.end && b.start < a.end
}

impl Workspace {
    /// Adds documents (one per text); returns their ids.
    pub fn add_texts<I: IntoIterator<Item = String>>(&mut self, texts: I) -> Vec<u64> {
        texts.into_iter().map(|t| self.add_example(Example { text: t, spans: Vec::new() }, false)).collect()
    }

    /// Adds an annotated example (as labelled when `labelled`); unknown types are created.
    pub fn add_example(&mut self, e: Example, labelled: bool) -> u64 {
        for s in &e.spans {
            self.ensure_type(&s.label);
        }
        let id = self.next_id;
        self.next_id += 1;
        let status = if labelled { Status::Labelled } else { Status::New };
        self.docs.push(Doc { id, text: e.text, spans: e.spans, suggestions: Vec::new(), status });
        id
    }

    /// Index of a type, created with the next palette colour if new.
    pub fn ensure_type(&mut self, name: &str) -> usize {
        if let Some(i) = self.types.iter().position(|t| t.name == name) {
            return i;
        }
        let color = PALETTE[self.types.len() % PALETTE.len()].to_string();
        self.types.push(EntityType { name: name.to_string(), color });
        self.types.len() - 1
    }

    /// A document by id.
    pub fn doc_mut(&mut self, id: u64) -> Option<&mut Doc> {
        self.docs.iter_mut().find(|d| d.id == id)
    }

    /// Labels `[start, end)` of document `id` as `label`, replacing overlapping labels and
    /// suggestions; the document becomes labelled.
    pub fn label(&mut self, id: u64, start: usize, end: usize, label: &str) {
        if start >= end {
            return;
        }
        self.ensure_type(label);
        if let Some(d) = self.doc_mut(id) {
            let new = Span::new(start, end, label);
            d.spans.retain(|s| !overlaps(s, &new));
            d.suggestions.retain(|s| !overlaps(s, &new));
            d.spans.push(new);
            d.spans.sort_by_key(|s| (s.start, s.end));
            d.status = Status::Labelled;
        }
    }

    /// Removes the label at `[start, end)`.
    pub fn unlabel(&mut self, id: u64, start: usize, end: usize) {
        if let Some(d) = self.doc_mut(id) {
            d.spans.retain(|s| !(s.start == start && s.end == end));
            d.status = Status::Labelled;
        }
    }

    /// Accepts the suggestion at `[start, end)` (optionally with another type).
    pub fn accept(&mut self, id: u64, start: usize, end: usize, label: Option<&str>) {
        let found = self.docs.iter().find(|d| d.id == id).and_then(|d| {
            d.suggestions.iter().find(|s| s.start == start && s.end == end).map(|s| s.label.clone())
        });
        if let Some(l) = found {
            self.label(id, start, end, label.unwrap_or(&l));
        }
    }

    /// Rejects the suggestion at `[start, end)`.
    pub fn reject(&mut self, id: u64, start: usize, end: usize) {
        if let Some(d) = self.doc_mut(id) {
            d.suggestions.retain(|s| !(s.start == start && s.end == end));
            d.status = Status::Labelled;
        }
    }

    /// Labels every whole-word occurrence of `needle` (characters) in every document as `label`,
    /// where it overlaps no existing label; returns how many were added.
    pub fn label_all(&mut self, needle: &str, label: &str) -> usize {
        let pattern: Vec<char> = needle.chars().collect();
        if pattern.is_empty() || pattern.iter().all(|c| c.is_whitespace()) {
            return 0;
        }
        self.ensure_type(label);
        let mut added = 0;
        for d in &mut self.docs {
            let chars: Vec<char> = d.text.chars().collect();
            let mut i = 0;
            while i + pattern.len() <= chars.len() {
                let end = i + pattern.len();
                let boundary = |k: Option<&char>| k.is_none_or(|c| !c.is_alphanumeric());
                if chars[i..end] == pattern[..] && boundary(i.checked_sub(1).and_then(|p| chars.get(p))) && boundary(chars.get(end)) {
                    let new = Span::new(i, end, label);
                    if !d.spans.iter().any(|s| overlaps(s, &new)) {
                        d.suggestions.retain(|s| !overlaps(s, &new));
                        d.spans.push(new);
                        d.status = Status::Labelled;
                        added += 1;
                    }
                    i = end;
                } else {
                    i += 1;
                }
            }
            d.spans.sort_by_key(|s| (s.start, s.end));
        }
        added
    }

    /// Renames a type everywhere (merging into an existing type of the new name).
    pub fn rename_type(&mut self, old: &str, new: &str) {
        let new = new.trim();
        if new.is_empty() || old == new || nuner::data::span::check_label(new).is_err() {
            return;
        }
        if self.types.iter().any(|t| t.name == new) {
            self.types.retain(|t| t.name != old);
        } else if let Some(t) = self.types.iter_mut().find(|t| t.name == old) {
            t.name = new.to_string();
        }
        for d in &mut self.docs {
            for s in d.spans.iter_mut().chain(d.suggestions.iter_mut()) {
                if s.label == old {
                    s.label = new.to_string();
                }
            }
        }
    }

    /// Deletes a type and its labels.
    pub fn delete_type(&mut self, name: &str) {
        self.types.retain(|t| t.name != name);
        for d in &mut self.docs {
            d.spans.retain(|s| s.label != name);
            d.suggestions.retain(|s| s.label != name);
        }
    }

    /// Labelled documents as training examples.
    pub fn training_examples(&self) -> Vec<Example> {
        self.docs
            .iter()
            .filter(|d| d.status == Status::Labelled)
            .map(|d| Example { text: d.text.clone(), spans: d.spans.clone() })
            .collect()
    }

    /// Every document as an example (labels only), for export.
    pub fn examples(&self) -> Vec<Example> {
        self.docs.iter().map(|d| Example { text: d.text.clone(), spans: d.spans.clone() }).collect()
    }
}

/// Undo/redo over whole workspace snapshots (documents are small; 100 steps kept).
#[derive(Debug, Default)]
pub struct History {
    undo: Vec<Workspace>,
    redo: Vec<Workspace>,
}

impl History {
    const DEPTH: usize = 100;

    /// Records the state before a change.
    pub fn record(&mut self, before: Workspace) {
        self.undo.push(before);
        if self.undo.len() > Self::DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// The state to go back to, given the current one.
    pub fn undo(&mut self, current: Workspace) -> Option<Workspace> {
        let prev = self.undo.pop()?;
        self.redo.push(current);
        Some(prev)
    }

    /// The state to go forward to, given the current one.
    pub fn redo(&mut self, current: Workspace) -> Option<Workspace> {
        let next = self.redo.pop()?;
        self.undo.push(current);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws() -> Workspace {
        let mut w = Workspace::default();
        w.add_texts(["Anna met Anna Lee in Paris.".to_string(), "Parisians love Paris 🗼.".to_string()]);
        w
    }

    #[test]
    fn labels_replace_overlaps_and_keep_order() {
        let mut w = ws();
        w.label(0, 9, 17, "person");
        w.label(0, 14, 17, "person");
        assert_eq!(w.docs[0].spans, vec![Span::new(14, 17, "person")]);
        w.label(0, 0, 4, "person");
        assert_eq!(w.docs[0].spans[0], Span::new(0, 4, "person"));
        assert_eq!(w.docs[0].status, Status::Labelled);
    }

    #[test]
    fn label_all_matches_whole_words_only() {
        let mut w = ws();
        assert_eq!(w.label_all("Paris", "city"), 2, "not inside 'Parisians'");
        assert_eq!(w.docs[1].spans, vec![Span::new(15, 20, "city")]);
        assert_eq!(w.label_all("Paris", "city"), 0, "no duplicates");
    }

    #[test]
    fn suggestions_are_accepted_or_rejected() {
        let mut w = ws();
        w.docs[0].suggestions = vec![Span::new(21, 26, "city"), Span::new(0, 4, "person")];
        w.accept(0, 21, 26, None);
        w.reject(0, 0, 4);
        assert_eq!(w.docs[0].spans, vec![Span::new(21, 26, "city")]);
        assert!(w.docs[0].suggestions.is_empty());
    }

    #[test]
    fn types_rename_and_delete_everywhere() {
        let mut w = ws();
        w.label(0, 0, 4, "PER");
        w.rename_type("PER", "person");
        assert_eq!(w.docs[0].spans[0].label, "person");
        assert_eq!(w.types[0].name, "person");
        w.delete_type("person");
        assert!(w.docs[0].spans.is_empty() && w.types.is_empty());
    }

    #[test]
    fn undo_and_redo_restore_snapshots() {
        let mut w = ws();
        let mut h = History::default();
        h.record(w.clone());
        w.label(0, 0, 4, "person");
        let labelled = w.clone();
        w = h.undo(w).unwrap();
        assert!(w.docs[0].spans.is_empty());
        w = h.redo(w).unwrap();
        assert_eq!(w, labelled);
        assert!(h.redo(w.clone()).is_none());
    }
}
