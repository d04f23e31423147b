//! The tag space of a head: `O`, then `B-T` and `I-T` for every entity type `T`.

use serde::{Deserialize, Serialize};

use crate::data::Tag;

/// Entity types, in a fixed order; tag ids follow from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LabelSet {
    types: Vec<String>,
}

impl LabelSet {
    /// A label set over `types` (sorted and deduplicated, so it is independent of input order).
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(types: I) -> Self {
        let mut types: Vec<String> = types.into_iter().map(Into::into).collect();
        types.sort();
        types.dedup();
        Self { types }
    }

    /// The entity types.
    pub fn types(&self) -> &[String] {
        &self.types
    }

    /// Number of tags: `2 × types + 1`.
    pub fn num_tags(&self) -> usize {
        2 * self.types.len() + 1
    }

    /// Tag id: 0 for `O`, `2i + 1` for `B-types[i]`, `2i + 2` for `I-types[i]`; `None` for a type
    /// outside the set.
    pub fn id(&self, tag: &Tag) -> Option<usize> {
        let index = |t: &str| self.types.binary_search_by(|x| x.as_str().cmp(t)).ok();
        match tag {
            Tag::O => Some(0),
            Tag::B(t) => index(t).map(|i| 2 * i + 1),
            Tag::I(t) => index(t).map(|i| 2 * i + 2),
        }
    }

    /// The tag of an id (`O` for ids out of range).
    pub fn tag(&self, id: usize) -> Tag {
        match id {
            0 => Tag::O,
            i if i <= 2 * self.types.len() => {
                let t = self.types[(i - 1) / 2].clone();
                if i % 2 == 1 { Tag::B(t) } else { Tag::I(t) }
            }
            _ => Tag::O,
        }
    }

    /// All tags as strings, in id order.
    pub fn tag_names(&self) -> Vec<String> {
        (0..self.num_tags()).map(|i| self.tag(i).to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_order_is_canonical() {
        let l = LabelSet::new(["PER", "LOC", "PER"]);
        assert_eq!(l.types(), ["LOC", "PER"]);
        assert_eq!(l.tag_names(), ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]);
        for i in 0..l.num_tags() {
            assert_eq!(l.id(&l.tag(i)), Some(i));
        }
        assert_eq!(l.id(&Tag::B("ORG".into())), None);
    }
}
