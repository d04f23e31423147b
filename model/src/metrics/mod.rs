//! Evaluation of tag sequences, number for number as the Python tools the NER literature uses:
//!
//! - [`entity_report`]: seqeval `classification_report(y_true, y_pred, mode='strict',
//!   scheme=IOB2, output_dict=True)` — exact-match entities, ill-formed ones dropped;
//! - [`entity_report_default`]: seqeval's default mode (conlleval-compatible: ill-formed `I-`
//!   tags start entities);
//! - [`token_macro_f1`]: token-level macro F1 over entity types, as NuNER's model cards report.
//!
//! Zero divisions give 0.0 as seqeval/sklearn do by default, except that a macro average over no
//! entity type at all (everything `O` in gold and prediction) is NaN, as there (numpy's mean of
//! an empty array); micro and weighted averages are then 0. Checked against the real packages by `tests/metrics.rs` with the fixture
//! made by `scripts/make_seqeval_fixture.py`.

mod chunks;

use std::collections::{BTreeMap, HashSet};

pub use chunks::TagProblem;

/// Precision, recall, F1 and support (number of gold items) of one type or an average.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prf {
    /// tp / predicted (0 when nothing was predicted).
    pub precision: f64,
    /// tp / gold (0 when there is no gold item).
    pub recall: f64,
    /// 2PR / (P + R) (0 when both are 0).
    pub f1: f64,
    /// Number of gold items.
    pub support: usize,
}

/// Per-type and averaged entity scores (seqeval's `classification_report` dict).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityReport {
    /// Scores of each type found in gold or prediction, by type name.
    pub per_type: BTreeMap<String, Prf>,
    /// From the summed counts of all types (`micro avg`).
    pub micro: Prf,
    /// Unweighted mean of the per-type scores (`macro avg`); NaN when there is no type.
    pub macro_avg: Prf,
    /// Mean weighted by gold support (`weighted avg`); 0 when there is no gold entity.
    pub weighted: Prf,
}

/// Token-level scores over entity types; see [`token_macro_f1`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenReport {
    /// Scores of each entity type found in gold or prediction (`O` excluded).
    pub per_type: BTreeMap<String, Prf>,
    /// Unweighted mean over those types; `macro_avg.f1` is the reported "token macro F1".
    pub macro_avg: Prf,
    /// From the summed counts over those types (`O` excluded).
    pub micro: Prf,
}

/// (tp, predicted, gold) of one type.
type Counts = (usize, usize, usize);

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Precision and recall from counts, F1 from them as numpy does in seqeval.
fn prf((tp, pred, gold): Counts) -> Prf {
    let (p, r) = (ratio(tp, pred), ratio(tp, gold));
    let denom = if p + r == 0.0 { 1.0 } else { p + r };
    Prf { precision: p, recall: r, f1: 2.0 * p * r / denom, support: gold }
}

fn sum_counts<'a>(counts: impl Iterator<Item = &'a Counts>) -> Counts {
    counts.fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2))
}

fn mean(per: &[Prf], weight: impl Fn(&Prf) -> f64) -> Prf {
    let w: f64 = per.iter().map(&weight).sum();
    let avg = |f: fn(&Prf) -> f64| per.iter().map(|x| f(x) * weight(x)).sum::<f64>() / w;
    Prf {
        precision: avg(|x| x.precision),
        recall: avg(|x| x.recall),
        f1: avg(|x| x.f1),
        support: per.iter().map(|x| x.support).sum(),
    }
}

/// seqeval's report from per-type counts.
fn entity_report_from(counts: BTreeMap<String, Counts>) -> EntityReport {
    let per_type: BTreeMap<String, Prf> = counts.iter().map(|(k, &c)| (k.clone(), prf(c))).collect();
    let rows: Vec<Prf> = per_type.values().copied().collect();
    let micro = prf(sum_counts(counts.values()));
    let gold: usize = rows.iter().map(|r| r.support).sum();
    let weighted = if gold == 0 { Prf::default() } else { mean(&rows, |x| x.support as f64) };
    EntityReport { per_type, micro, macro_avg: mean(&rows, |_| 1.0), weighted }
}

/// Per-type counts from gold and predicted entity sets keyed by (type, position).
fn count<K: Eq + std::hash::Hash>(gold: Vec<(String, K)>, pred: Vec<(String, K)>) -> BTreeMap<String, Counts> {
    let gold: HashSet<(String, K)> = gold.into_iter().collect();
    let pred: HashSet<(String, K)> = pred.into_iter().collect();
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for (ty, _) in &gold {
        counts.entry(ty.clone()).or_default().2 += 1;
    }
    for e in &pred {
        let c = counts.entry(e.0.clone()).or_default();
        c.1 += 1;
        c.0 += gold.contains(e) as usize;
    }
    counts
}

/// Entity scores in seqeval's strict mode with the IOB2 scheme.
///
/// An entity is `B-X` followed by the longest run of `I-X`; it is correct when a predicted
/// entity has the same sentence, type, start and end. An `I-X` that does not continue a `B-X`/
/// `I-X` run is in no entity. Types are the tag after its first character with `-` stripped
/// from both ends (so `B-PER` is `PER`). Tags that seqeval rejects (first character not B, I or
/// O) count as `O` here; [`try_entity_report`] reports them instead. Sentences are compared as
/// given: with unequal lengths each side's entities are still found, and only exact matches
/// count.
pub fn entity_report(gold: &[Vec<String>], pred: &[Vec<String>]) -> EntityReport {
    let key = |v: Vec<(usize, String, usize, usize)>| -> Vec<(String, (usize, usize, usize))> {
        v.into_iter().map(|(s, t, a, b)| (t, (s, a, b))).collect()
    };
    entity_report_from(count(key(chunks::strict_entities(gold)), key(chunks::strict_entities(pred))))
}

/// [`entity_report`], but an error where seqeval raises: a tag whose first character is not
/// B, I or O, or gold and prediction of different shapes.
pub fn try_entity_report(gold: &[Vec<String>], pred: &[Vec<String>]) -> Result<EntityReport, TagProblem> {
    check_lengths(gold, pred)?;
    if let Some(p) = chunks::first_invalid("gold", gold).or_else(|| chunks::first_invalid("pred", pred)) {
        return Err(p);
    }
    Ok(entity_report(gold, pred))
}

fn check_lengths(gold: &[Vec<String>], pred: &[Vec<String>]) -> Result<(), TagProblem> {
    if gold.len() != pred.len() {
        return Err(TagProblem::Length(format!("{} gold sentences but {} predicted", gold.len(), pred.len())));
    }
    match gold.iter().zip(pred).position(|(g, p)| g.len() != p.len()) {
        Some(i) => Err(TagProblem::Length(format!(
            "sentence {i} has {} gold tags but {} predicted",
            gold[i].len(),
            pred[i].len()
        ))),
        None => Ok(()),
    }
}

/// Entity scores in seqeval's default mode (`classification_report` without `mode`), which
/// is compatible with conlleval: `B-X` starts an entity, `I-X` continues one of type X or
/// starts one, `E-`/`S-` are understood, and the type is what follows the first `-` after the
/// prefix character. Entities are located in the sentences joined with an `O` after each, as
/// seqeval does, so unequal sentence lengths shift positions (equal shapes are expected).
pub fn entity_report_default(gold: &[Vec<String>], pred: &[Vec<String>]) -> EntityReport {
    let key = |v: Vec<(String, usize, usize)>| -> Vec<(String, (usize, usize))> {
        v.into_iter().map(|(t, a, b)| (t, (a, b))).collect()
    };
    entity_report_from(count(key(chunks::default_entities(gold)), key(chunks::default_entities(pred))))
}

/// The class of a tag at token level: `O` stays `O`, `B-X` and `I-X` become `X`, and any other
/// string is a class of its own.
pub fn token_class(tag: &str) -> &str {
    tag.strip_prefix("B-").or_else(|| tag.strip_prefix("I-")).unwrap_or(tag)
}

/// Token-level F1 as NuNER's model cards report it.
///
/// Each token's class is its tag without the `B-`/`I-` prefix ([`token_class`]); gold and
/// predicted tokens are paired by position (sentence by sentence, extra tokens on either side
/// ignored). For each entity type — every class other than `O` that occurs in gold or
/// prediction — precision = tp / predicted tokens of the type, recall = tp / gold tokens of the
/// type, F1 = 2 tp / (gold + predicted), each 0 when its denominator is 0. The macro F1 is the
/// unweighted mean over those types (`O` excluded): sklearn's
/// `f1_score(gold_classes, pred_classes, labels=types, average='macro', zero_division=0)`.
/// The macro average is NaN when there is no entity type at all, as sklearn returns (the micro
/// average is then 0).
pub fn token_macro_f1(gold: &[Vec<String>], pred: &[Vec<String>]) -> TokenReport {
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for (g, p) in gold.iter().zip(pred) {
        for (g, p) in g.iter().zip(p) {
            let (g, p) = (token_class(g), token_class(p));
            if g != "O" {
                counts.entry(g.to_string()).or_default().2 += 1;
            }
            if p != "O" {
                let c = counts.entry(p.to_string()).or_default();
                c.1 += 1;
                c.0 += (g == p) as usize;
            }
        }
    }
    let f1 = |(tp, pred, gold): Counts| ratio(2 * tp, pred + gold);
    let per_type: BTreeMap<String, Prf> =
        counts.iter().map(|(k, &c)| (k.clone(), Prf { f1: f1(c), ..prf(c) })).collect();
    let rows: Vec<Prf> = per_type.values().copied().collect();
    let total = sum_counts(counts.values());
    TokenReport { per_type, macro_avg: mean(&rows, |_| 1.0), micro: Prf { f1: f1(total), ..prf(total) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(s: &[&str]) -> Vec<Vec<String>> {
        s.iter().map(|x| x.split_whitespace().map(String::from).collect()).collect()
    }

    #[test]
    fn seqeval_docstring_example() {
        let gold = seqs(&["O O O B-MISC I-MISC I-MISC O", "B-PER I-PER O"]);
        let pred = seqs(&["O O B-MISC I-MISC I-MISC I-MISC O", "B-PER I-PER O"]);
        for r in [entity_report(&gold, &pred), entity_report_default(&gold, &pred)] {
            assert_eq!(r.per_type["MISC"], Prf { precision: 0.0, recall: 0.0, f1: 0.0, support: 1 });
            assert_eq!(r.per_type["PER"], Prf { precision: 1.0, recall: 1.0, f1: 1.0, support: 1 });
            for avg in [r.micro, r.macro_avg, r.weighted] {
                assert_eq!(avg, Prf { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
            }
        }
    }

    #[test]
    fn strict_and_default_differ_on_ill_formed() {
        let gold = seqs(&["B-PER I-PER O B-LOC"]);
        let pred = seqs(&["I-PER I-PER O B-LOC"]);
        let s = entity_report(&gold, &pred);
        assert_eq!((s.per_type["PER"].precision, s.per_type["PER"].recall), (0.0, 0.0));
        assert_eq!(s.micro.precision, 1.0);
        assert!((s.micro.recall - 0.5).abs() < 1e-12);
        let d = entity_report_default(&gold, &pred);
        assert_eq!(d.micro.f1, 1.0);
    }

    #[test]
    fn empty_and_pred_only() {
        let r = entity_report(&seqs(&["O O"]), &seqs(&["O O"]));
        assert!(r.per_type.is_empty() && r.macro_avg.f1.is_nan());
        assert_eq!((r.micro, r.weighted), (Prf::default(), Prf::default()));
        let r = entity_report(&seqs(&["O O"]), &seqs(&["B-X O"]));
        assert_eq!(r.per_type["X"], Prf::default());
        assert_eq!((r.macro_avg, r.weighted), (Prf::default(), Prf::default()));
        assert!(try_entity_report(&seqs(&["O"]), &seqs(&["O O"])).is_err());
        assert!(try_entity_report(&seqs(&["O S-X"]), &seqs(&["O O"])).is_err());
    }

    #[test]
    fn token_f1_by_hand() {
        // PER: gold 2 tokens, pred 3 of which 2 right -> P 2/3, R 1, F1 0.8.
        // LOC: gold 1, pred 0 -> 0. MISC: pred only -> 0. Macro = 0.8 / 3.
        let gold = seqs(&["B-PER I-PER O B-LOC O"]);
        let pred = seqs(&["B-PER I-PER I-PER O B-MISC"]);
        let r = token_macro_f1(&gold, &pred);
        assert!((r.per_type["PER"].f1 - 0.8).abs() < 1e-12);
        assert_eq!(r.per_type["LOC"].f1, 0.0);
        assert_eq!(r.per_type["MISC"].support, 0);
        assert!((r.macro_avg.f1 - 0.8 / 3.0).abs() < 1e-12);
        assert!((r.micro.f1 - 4.0 / 7.0).abs() < 1e-12);
        assert!(token_macro_f1(&seqs(&["O"]), &seqs(&["O"])).macro_avg.f1.is_nan());
    }
}
