//! Overlapping windows over a long token sequence, and the rule that merges them back.
//!
//! A text of `n` tokens is cut into windows of at most `capacity` tokens, consecutive windows
//! sharing `overlap` tokens. Each token is then *owned* by exactly one window — the one where it
//! sits farthest from an edge, i.e. overlaps are split at their midpoint — so every token (and
//! hence every character) appears once in the merged output, with as much context as possible.

use std::ops::Range;

use crate::error::{ModelError, Result};

/// How long texts are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowConfig {
    /// Most content tokens per window (special tokens not counted).
    pub capacity: usize,
    /// Tokens shared by consecutive windows; must be below `capacity`.
    pub overlap: usize,
}

/// One window: the tokens it sees and the tokens it owns in the merged output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Token range fed to the model.
    pub span: Range<usize>,
    /// Sub-range whose outputs are kept.
    pub owned: Range<usize>,
}

impl WindowConfig {
    /// Checks the configuration.
    pub fn new(capacity: usize, overlap: usize) -> Result<Self> {
        if capacity == 0 || overlap >= capacity {
            return Err(ModelError::Invalid(format!(
                "window: need 0 <= overlap < capacity, got overlap {overlap}, capacity {capacity}"
            )));
        }
        Ok(Self { capacity, overlap })
    }

    /// Cuts `n` tokens into windows; a text that fits gives one window, an empty text one empty
    /// window (so special tokens are still produced).
    pub fn plan(&self, n: usize) -> Vec<Window> {
        if n <= self.capacity {
            return vec![Window { span: 0..n, owned: 0..n }];
        }
        let step = self.capacity - self.overlap;
        let mut spans = Vec::new();
        let mut start = 0;
        loop {
            let end = (start + self.capacity).min(n);
            spans.push(start..end);
            if end == n {
                break;
            }
            start += step;
        }
        // The last window is pulled back to full length: more context for its tokens.
        if let Some(last) = spans.last_mut() {
            *last = n.saturating_sub(self.capacity)..n;
        }
        let mut windows: Vec<Window> = Vec::with_capacity(spans.len());
        for (i, span) in spans.iter().enumerate() {
            let owned_start = if i == 0 { 0 } else { windows[i - 1].owned.end };
            let owned_end = match spans.get(i + 1) {
                Some(next) => (next.start + span.end).div_ceil(2),
                None => n,
            };
            windows.push(Window { span: span.clone(), owned: owned_start..owned_end });
        }
        windows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_partition(windows: &[Window], n: usize) {
        let mut next = 0;
        for w in windows {
            assert_eq!(w.owned.start, next, "{windows:?}");
            assert!(w.span.start <= w.owned.start && w.owned.end <= w.span.end, "{w:?}");
            next = w.owned.end;
        }
        assert_eq!(next, n);
    }

    #[test]
    fn short_text_is_one_window() {
        let c = WindowConfig::new(8, 2).unwrap();
        assert_eq!(c.plan(5), vec![Window { span: 0..5, owned: 0..5 }]);
        assert_eq!(c.plan(0), vec![Window { span: 0..0, owned: 0..0 }]);
    }

    #[test]
    fn windows_partition_every_length() {
        for capacity in 1..12 {
            for overlap in 0..capacity {
                let c = WindowConfig::new(capacity, overlap).unwrap();
                for n in 0..60 {
                    let w = c.plan(n);
                    assert_partition(&w, n);
                    assert!(w.iter().all(|w| w.span.len() <= capacity));
                }
            }
        }
    }

    #[test]
    fn owned_tokens_keep_context_on_both_sides() {
        let c = WindowConfig::new(10, 4).unwrap();
        let w = c.plan(30);
        for pair in w.windows(2) {
            let cut = pair[0].owned.end;
            assert!(pair[0].span.end - cut >= 2 && cut - pair[1].span.start >= 2, "{pair:?}");
        }
    }

    #[test]
    fn rejects_overlap_not_below_capacity() {
        assert!(WindowConfig::new(4, 4).is_err());
        assert!(WindowConfig::new(0, 0).is_err());
    }
}
