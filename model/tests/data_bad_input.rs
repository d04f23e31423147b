//! Malformed data files: strict reads fail with an error naming `file:line` (or the record of a
//! JSON array); lenient reads skip the bad sentence, line or record, keep the rest and warn
//! with the same text. Writers name the example.

use nuner::data::{read_examples, write_conll, ConllOptions, DataError, Example, Format, LabelColumn, Scheme, Span};

const CONLL: Format = Format::Conll(ConllOptions { scheme: Scheme::Auto, label: LabelColumn::Auto });

/// Strict read fails with a message starting `prefix` and containing `needle`.
fn strict_err(bytes: &[u8], name: &str, format: Format, prefix: &str, needle: &str) -> DataError {
    let e = read_examples(bytes, name, format, false).expect_err("a malformed file was accepted");
    let msg = e.to_string();
    assert!(msg.starts_with(prefix), "{msg:?} should start with {prefix:?}");
    assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
    e
}

/// Lenient read keeps `examples` examples and gives one warning equal to the strict error.
fn lenient_one(bytes: &[u8], name: &str, format: Format, err: &DataError, examples: usize) {
    let r = read_examples(bytes, name, format, true).unwrap();
    assert_eq!(r.warnings, vec![err.to_string()]);
    assert_eq!(r.examples.len(), examples, "{:?}", r.examples);
}

fn conll_case(line: &str, prefix_line: usize, needle: &str) {
    // Line 1-3: a good sentence; line 4 blank; the bad line is line 5 of the second sentence,
    // line 7 starts a third (good) sentence.
    let file = format!("Anna\tB-PER\nmet\tO\nBob\tB-PER\n\n{line}\nx\tO\n\nok\tO\n");
    let name = "wnut17/train.txt";
    let err = strict_err(file.as_bytes(), name, CONLL, &format!("{name}:{prefix_line}: "), needle);
    lenient_one(file.as_bytes(), name, CONLL, &err, 2);
}

#[test]
fn conll_bad_tags() {
    conll_case("Bob\tB_PER", 5, "bad tag \"B_PER\" (expected O, B-TYPE or I-TYPE)");
    conll_case("Bob\tX-LOC", 5, "bad tag \"X-LOC\"");
    conll_case("Bob\tB-", 5, "bad tag \"B-\"");
    conll_case("Bob\to", 5, "bad tag \"o\"");
    conll_case("Bob\tS-PER", 5, "bad tag \"S-PER\"");
}

#[test]
fn conll_wrong_columns_empty_token_bad_utf8() {
    conll_case("Bob\tNNP\tB-PER", 5, "expected 2 columns (as most lines of the file have), found 3");
    conll_case("Bob", 5, "found 1");
    conll_case("\tO", 5, "empty token");
    let file = b"a O\n\nb\xFF O\nc O\n\nd O\n";
    let err = strict_err(file, "f.conll", CONLL, "f.conll:3: ", "not valid UTF-8");
    lenient_one(file, "f.conll", CONLL, &err, 2);
}

#[test]
fn conll_single_column_file() {
    let err = strict_err(b"just\ntokens\n", "t.txt", CONLL, "t.txt:1: ", "a token and a tag are needed");
    let r = read_examples(b"just\ntokens\n", "t.txt", CONLL, true).unwrap();
    assert_eq!((r.examples.len(), r.warnings.len()), (0, 2));
    assert_eq!(r.warnings[0], err.to_string());
}

#[test]
fn conll_lenient_counts() {
    let file = "a\tO\n\nb\tB_X\nc\tO\nd\tI-\n\ne\tB-X\n\nf\tO\tO\n\ng\tO\nh\tB-Y\n";
    let r = read_examples(file.as_bytes(), "m.txt", CONLL, true).unwrap();
    assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
    assert!(r.warnings[0].starts_with("m.txt:3: bad tag"));
    assert!(r.warnings[1].starts_with("m.txt:5: bad tag"));
    assert!(r.warnings[2].starts_with("m.txt:9: expected 2 columns"));
    let texts: Vec<&str> = r.examples.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["a", "e", "g h"]);
    assert_eq!(r.examples[2].spans, vec![Span::new(2, 3, "Y")]);
}

fn jsonl_case(line: &str, needle: &str) {
    let good = r#"{"text": "Anna met Bob", "spans": [{"start": 0, "end": 4, "label": "PER"}]}"#;
    let file = format!("{good}\n\n{line}\r\n{good}\n");
    let err = strict_err(file.as_bytes(), "x.jsonl", Format::Jsonl, "x.jsonl:3: ", needle);
    lenient_one(file.as_bytes(), "x.jsonl", Format::Jsonl, &err, 2);
}

#[test]
fn jsonl_bad_lines() {
    jsonl_case(r#"{"text": "abc", "spans": [{"start": 1, "end": 4, "label": "X"}]}"#, "ends after the text");
    jsonl_case(
        r#"{"text": "abcd", "spans": [{"start": 0, "end": 2, "label": "X"}, {"start": 1, "end": 3, "label": "Y"}]}"#,
        "overlaps",
    );
    jsonl_case(r#"{"text": "abc", "spans": [{"start": 2, "end": 2, "label": "X"}]}"#, "is empty");
    jsonl_case(r#"{"text": "abc", "spans": [{"start": 0, "end": 2, "label": "a\tb"}]}"#, "control character");
    jsonl_case(r#"{"text": "abc", "spans": [{"start": -1, "end": 2, "label": "X"}]}"#, "invalid example JSON");
    jsonl_case(r#"{"text": "abc", "spans": [{"start": 0, "end": 2, "label": "X"}]"#, "invalid example JSON");
    jsonl_case(r#"["not", "an", "object"]"#, "invalid example JSON");
    jsonl_case(r#"{"spans": []}"#, "missing field `text`");
}

#[test]
fn gliner_array_records() {
    let good = r#"{"tokenized_text": ["Anna", "met", "Bob"], "ner": [[0, 0, "PER"], [2, 2, "PER"]]}"#;
    let cases = [
        (r#"{"tokenized_text": ["a", "b"], "ner": [[1, 2, "X"]]}"#, "ner[0] [1, 2, \"X\"] is outside the 2 words"),
        (r#"{"tokenized_text": ["a", "b"], "ner": [[1, 0, "X"]]}"#, "is outside"),
        (r#"{"tokenized_text": ["a", ""], "ner": [[1, 1, "X"]]}"#, "covers no text"),
        (r#"{"tokenized_text": ["a"], "ner": [[0, 0, ""]]}"#, "empty label"),
        (r#"{"tokenized_text": ["a"], "ner": [[0, "0", "X"]]}"#, "not a GLiNER record"),
        (r#"{"text": "a"}"#, "not a GLiNER record"),
    ];
    for (bad, needle) in cases {
        let file = format!("[{good},\n{bad},\n{good}]");
        let err = strict_err(file.as_bytes(), "s.json", Format::Gliner, "s.json: record 1: ", needle);
        lenient_one(file.as_bytes(), "s.json", Format::Gliner, &err, 2);
    }
    // Not JSON at all: cannot be split into records, so an error in both modes, naming the line.
    let file = format!("[{good},\n{{\"tokenized_text\": [}},\n{good}]");
    strict_err(file.as_bytes(), "s.json", Format::Gliner, "s.json:2: ", "invalid JSON");
    assert!(read_examples(file.as_bytes(), "s.json", Format::Gliner, true).is_err());
}

#[test]
fn gliner_lines() {
    let good = r#"{"tokenized_text": ["Anna"], "ner": [[0, 0, "PER"]]}"#;
    let file = format!("{good}\n{{\"tokenized_text\": [\"a\"], \"ner\": [[0, 5, \"X\"]]}}\n{{oops\n{good}\n");
    let e = strict_err(file.as_bytes(), "p.jsonl", Format::Gliner, "p.jsonl:2: ", "outside the 1 words");
    let r = read_examples(file.as_bytes(), "p.jsonl", Format::Gliner, true).unwrap();
    assert_eq!(r.warnings.len(), 2);
    assert_eq!(r.warnings[0], e.to_string());
    assert!(r.warnings[1].starts_with("p.jsonl:3: invalid JSON"));
    assert_eq!(r.examples.len(), 2);
}

#[test]
fn writers_name_the_example() {
    let good = Example::new("Anna met Bob", vec![Span::new(0, 4, "PER")]);
    let cases = [
        (Example::new("Anna met Bob", vec![Span::new(0, 3, "PER")]), "does not align"),
        (Example::new("Anna met Bob", vec![Span::new(4, 5, "PER")]), "overlaps no token"),
        (Example::new("Anna", vec![Span::new(0, 9, "PER")]), "ends after the text"),
        (Example::new(" \t", vec![]), "no words"),
        (Example::new("x -DOCSTART- y", vec![]), "-DOCSTART-"),
        (Example { text: "a b".into(), spans: vec![Span::new(2, 3, "X"), Span::new(0, 1, "X")] }, "not sorted"),
    ];
    for (bad, needle) in cases {
        let e = write_conll(&[good.clone(), good.clone(), bad]).unwrap_err().to_string();
        assert!(e.starts_with("example 2: ") && e.contains(needle), "{e}");
    }
}
