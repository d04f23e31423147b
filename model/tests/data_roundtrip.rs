//! Every dataset file in `../shared/data` (or `$NUNER_SHARED_DIR/data`) is read strictly and
//! round-trips with zero differences: spans -> BIO tags over `words()` -> spans; write_conll ->
//! read (IOB2); write_jsonl -> read. Counts are checked against the figures in each SOURCE.txt.

mod common;

use nuner::data::{
    detect_format, gliner, read_examples, spans_to_tags, tags_to_spans, words, write_conll, write_jsonl, ConllOptions,
    Example, Format, LabelColumn, ReadOutcome, Scheme,
};
use std::collections::BTreeMap;
use std::path::Path;

/// (file under data/, sentences, entities, tokens) as SOURCE.txt states them (None: not stated).
const STATED: &[(&str, usize, Option<usize>, Option<usize>)] = &[
    ("conll2003/eng.train", 14041, Some(23499), Some(203621)),
    ("conll2003/eng.testa", 3250, Some(5942), Some(51362)),
    ("conll2003/eng.testb", 3453, Some(5648), Some(46435)),
    ("wnut17/wnut17train.conll", 3394, Some(1975), Some(62730)),
    ("wnut17/emerging.dev.conll", 1009, Some(836), Some(15733)),
    ("wnut17/emerging.test.annotated", 1287, Some(1079), Some(23394)),
    ("crossner/ai/train.txt", 100, None, None),
    ("crossner/ai/dev.txt", 350, None, None),
    ("crossner/ai/test.txt", 431, None, None),
    ("crossner/literature/train.txt", 100, None, None),
    ("crossner/literature/dev.txt", 400, None, None),
    ("crossner/literature/test.txt", 416, None, None),
    ("crossner/music/train.txt", 100, None, None),
    ("crossner/music/dev.txt", 380, None, None),
    ("crossner/music/test.txt", 465, None, None),
    ("crossner/politics/train.txt", 200, None, None),
    ("crossner/politics/dev.txt", 541, None, None),
    ("crossner/politics/test.txt", 651, None, None),
    ("crossner/science/train.txt", 200, None, None),
    ("crossner/science/dev.txt", 450, None, None),
    ("crossner/science/test.txt", 543, None, None),
    ("crossner/conll2003/train.txt", 14041, None, None),
    ("crossner/conll2003/dev.txt", 3250, None, None),
    ("crossner/conll2003/test.txt", 3453, None, None),
    ("wikigold/wikigold.conll.txt", 1696, Some(3558), Some(39007)),
    ("fewnerd_partial/dev.txt", 11710, Some(27797), Some(312919)),
    ("fewnerd_partial/test.txt", 13012, Some(30608), Some(345620)),
    ("fewnerd_partial/big_test.txt", 14006, Some(28341), Some(312762)),
    ("open_type_sample/sample_data.json", 64, None, None),
];

/// Files that are not datasets.
fn is_dataset(rel: &str) -> bool {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    !matches!(base, "SOURCE.txt" | "LICENSE" | "README.md" | "labels-fewnerd.txt")
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)
        } else {
            out.push(p)
        }
    }
}

/// Same as SOURCE.txt writes it: 14,041.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn check_file(rel: &str, bytes: &[u8], failures: &mut Vec<String>) -> (usize, usize, usize, usize, usize) {
    let format = detect_format(bytes, rel);
    let expect_gliner = rel.ends_with(".json");
    assert_eq!(matches!(format, Format::Gliner), expect_gliner, "{rel}: detected {format:?}");
    let ReadOutcome { examples, warnings } = read_examples(bytes, rel, format, false).or_fail(rel);
    for w in &warnings {
        println!("    warning: {w}");
    }
    let mut spans = 0;
    let mut tokens = 0;
    let mut types = BTreeMap::<&str, usize>::new();
    for (i, ex) in examples.iter().enumerate() {
        if let Err(e) = ex.validate() {
            failures.push(format!("{rel} example {i}: {e}"));
        }
        let ws = words(&ex.text);
        tokens += ws.len();
        spans += ex.spans.len();
        for s in &ex.spans {
            *types.entry(&s.label).or_default() += 1;
        }
        match spans_to_tags(&ex.spans, &ws) {
            Ok(tags) => {
                let back = tags_to_spans(&tags, &ws);
                if back != ex.spans {
                    failures.push(format!(
                        "{rel} example {i}: spans -> tags -> spans differs: {:?} vs {:?}",
                        ex.spans, back
                    ));
                }
            }
            Err(e) => failures.push(format!("{rel} example {i}: {e}")),
        }
    }
    // CoNLL (IOB2) and JSON lines, written and read back.
    let conll = write_conll(&examples).unwrap_or_else(|e| panic!("{rel}: write_conll: {e}"));
    let opts = ConllOptions { scheme: Scheme::Iob2, label: LabelColumn::Last };
    let back = read_examples(conll.as_bytes(), rel, Format::Conll(opts), false).or_fail(rel);
    compare(rel, "CoNLL", &examples, &back, failures);
    let jsonl = write_jsonl(&examples);
    let back = read_examples(jsonl.as_bytes(), rel, Format::Jsonl, false).or_fail(rel);
    compare(rel, "JSONL", &examples, &back, failures);
    (examples.len(), spans, tokens, types.len(), warnings.len())
}

fn compare(rel: &str, how: &str, a: &[Example], back: &ReadOutcome, failures: &mut Vec<String>) {
    if !back.warnings.is_empty() {
        failures.push(format!("{rel}: reading our {how} back warned: {:?}", &back.warnings[..1]));
    }
    if a.len() != back.examples.len() {
        failures.push(format!("{rel}: {how} round trip has {} examples, not {}", back.examples.len(), a.len()));
        return;
    }
    let diffs = a.iter().zip(&back.examples).filter(|(x, y)| x != y).count();
    if diffs > 0 {
        let i = a.iter().zip(&back.examples).position(|(x, y)| x != y).unwrap();
        failures.push(format!(
            "{rel}: {how} round trip: {diffs} examples differ, first {i}: {:?} vs {:?}",
            a[i], back.examples[i]
        ));
    }
}

trait OrPanic<T> {
    fn or_fail(self, rel: &str) -> T;
}
impl<T> OrPanic<T> for Result<T, nuner::data::DataError> {
    fn or_fail(self, rel: &str) -> T {
        self.unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

#[test]
fn every_dataset_round_trips() {
    let Some(shared) = common::shared_dir() else {
        println!("SKIP every_dataset_round_trips: ../shared not found (set NUNER_SHARED_DIR)");
        return;
    };
    let data = shared.join("data");
    if !data.is_dir() {
        println!("SKIP every_dataset_round_trips: {} not found", data.display());
        return;
    }
    let mut files = Vec::new();
    walk(&data, &mut files);
    let mut failures = Vec::new();
    let mut seen = 0;
    println!("{:<40} {:>9} {:>8} {:>8} {:>6} {:>5}", "file", "sentences", "spans", "tokens", "types", "warn");
    for path in files {
        let rel = path.strip_prefix(&data).unwrap().to_string_lossy().replace('\\', "/");
        if !is_dataset(&rel) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let (n, spans, tokens, types, warns) = check_file(&rel, &bytes, &mut failures);
        println!("{rel:<40} {n:>9} {spans:>8} {tokens:>8} {types:>6} {warns:>5}");
        seen += 1;
        let Some(&(_, want_n, want_spans, want_tokens)) = STATED.iter().find(|s| s.0 == rel) else {
            failures.push(format!("{rel}: not in the table of stated counts"));
            continue;
        };
        let folder = rel.split('/').next().unwrap();
        let source = std::fs::read_to_string(data.join(folder).join("SOURCE.txt")).unwrap_or_default();
        for (what, want, got) in
            [("sentences", Some(want_n), n), ("entities", want_spans, spans), ("tokens", want_tokens, tokens)]
        {
            let Some(want) = want else { continue };
            if !source.contains(&thousands(want)) && !source.contains(&want.to_string()) {
                failures.push(format!("{rel}: the table's {what} {want} is not in {folder}/SOURCE.txt"));
            }
            if want != got {
                failures.push(format!("{rel}: {got} {what}, SOURCE.txt states {want}"));
            }
        }
    }
    assert_eq!(seen, STATED.len(), "dataset files found vs the table");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn open_type_sample_nested_counts() {
    let Some(shared) = common::shared_dir() else {
        println!("SKIP open_type_sample_nested_counts: ../shared not found (set NUNER_SHARED_DIR)");
        return;
    };
    let path = shared.join("data/open_type_sample/sample_data.json");
    let Ok(bytes) = std::fs::read(&path) else {
        println!("SKIP open_type_sample_nested_counts: {} not found", path.display());
        return;
    };
    let nested = gliner::read_nested(&bytes, "sample_data.json", false).unwrap();
    let types: std::collections::BTreeSet<&str> =
        nested.examples.iter().flat_map(|e| e.spans.iter().map(|s| s.label.as_str())).collect();
    let spans: usize = nested.examples.iter().map(|e| e.spans.len()).sum();
    println!("open_type_sample nested: {} examples, {spans} spans, {} types", nested.examples.len(), types.len());
    assert_eq!((nested.examples.len(), types.len()), (64, 144), "SOURCE.txt: 64 examples, 144 distinct types");
}
