//! The metrics against the real seqeval and scikit-learn: every number of
//! `fixtures/seqeval/cases.json` (made by `scripts/make_seqeval_fixture.py`) to 1e-9.

use nuner::metrics::{entity_report, entity_report_default, token_macro_f1, try_entity_report, EntityReport, Prf};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const TOL: f64 = 1e-9;

fn cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seqeval/cases.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).expect("seqeval fixture")).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn seqs(v: &Value) -> Vec<Vec<String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect())
        .collect()
}

/// Compares one number; null in the fixture is NaN.
fn num(errors: &mut Vec<String>, what: &str, want: &Value, got: f64) {
    let ok = match want.as_f64() {
        None => got.is_nan(),
        Some(w) => (w - got).abs() <= TOL,
    };
    if !ok {
        errors.push(format!("{what}: seqeval {want}, ours {got}"));
    }
}

fn row(errors: &mut Vec<String>, what: &str, want: &Value, got: &Prf, support: bool) {
    num(errors, &format!("{what} precision"), &want["precision"], got.precision);
    num(errors, &format!("{what} recall"), &want["recall"], got.recall);
    num(errors, &format!("{what} f1"), &want["f1"], got.f1);
    if support && want["support"].as_u64() != Some(got.support as u64) {
        errors.push(format!("{what} support: seqeval {}, ours {}", want["support"], got.support));
    }
}

fn report(errors: &mut Vec<String>, what: &str, want: &Value, got: &EntityReport) {
    let want = want.as_object().unwrap();
    let types: Vec<&String> = want.keys().filter(|k| !k.ends_with(" avg")).collect();
    let ours: Vec<&String> = got.per_type.keys().collect();
    let mut sorted = types.clone();
    sorted.sort();
    if sorted != ours {
        errors.push(format!("{what} types: seqeval {types:?}, ours {ours:?}"));
    }
    for t in types {
        if let Some(p) = got.per_type.get(t) {
            row(errors, &format!("{what} {t}"), &want[t], p, true);
        }
    }
    row(errors, &format!("{what} micro"), &want["micro avg"], &got.micro, true);
    row(errors, &format!("{what} macro"), &want["macro avg"], &got.macro_avg, true);
    row(errors, &format!("{what} weighted"), &want["weighted avg"], &got.weighted, true);
}

#[test]
fn matches_seqeval_and_sklearn() {
    let cases = cases();
    assert!(cases.len() >= 60, "fixture has only {} cases", cases.len());
    let mut errors = Vec::new();
    let mut counted = BTreeMap::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (gold, pred) = (seqs(&case["gold"]), seqs(&case["pred"]));
        if case["strict"].is_null() {
            assert!(
                try_entity_report(&gold, &pred).is_err(),
                "{name}: seqeval raised ({}), we did not",
                case["strict_error"]
            );
            let _ = entity_report(&gold, &pred); // must not panic
            *counted.entry("strict raises").or_insert(0) += 1;
        } else {
            let strict = try_entity_report(&gold, &pred).unwrap_or_else(|e| panic!("{name}: {e}"));
            // (Debug, because NaN != NaN.)
            assert_eq!(format!("{strict:?}"), format!("{:?}", entity_report(&gold, &pred)));
            report(&mut errors, &format!("{name} / strict"), &case["strict"], &strict);
            *counted.entry("strict").or_insert(0) += 1;
        }
        report(&mut errors, &format!("{name} / default"), &case["default"], &entity_report_default(&gold, &pred));
        let tok = token_macro_f1(&gold, &pred);
        let want = &case["token"];
        if want.is_null() {
            // sklearn refuses zero tokens; ours: no type, macro NaN, micro 0.
            assert!(tok.per_type.is_empty() && tok.macro_avg.f1.is_nan() && tok.micro.f1 == 0.0, "{name}");
            continue;
        }
        let types: Vec<&String> = want["per_type"].as_object().unwrap().keys().collect();
        if types != tok.per_type.keys().collect::<Vec<_>>() {
            errors.push(format!("{name} / token types: sklearn {types:?}, ours {:?}", tok.per_type.keys()));
        }
        for (t, p) in &tok.per_type {
            row(&mut errors, &format!("{name} / token {t}"), &want["per_type"][t], p, true);
        }
        row(&mut errors, &format!("{name} / token macro"), &want["macro"], &tok.macro_avg, false);
        row(&mut errors, &format!("{name} / token micro"), &want["micro"], &tok.micro, false);
    }
    println!("{} cases: {counted:?}", cases.len());
    assert!(errors.is_empty(), "{} mismatches:\n{}", errors.len(), errors.join("\n"));
}

#[test]
fn zero_sentences() {
    // seqeval refuses an empty list of sentences; ours gives the all-O answer.
    let r = entity_report(&[], &[]);
    assert!(r.per_type.is_empty() && r.macro_avg.f1.is_nan() && r.micro.f1 == 0.0);
    assert!(token_macro_f1(&[], &[]).macro_avg.f1.is_nan());
}
