//! An open-type concept pool for pre-training, made from the labelled sets in `../shared/data`
//! when no LLM-annotated corpus is at hand. Every label becomes a natural-language concept name
//! (the concept tower reads names, not tag codes).
//!
//! | dataset (file under the data dir) | format | labels |
//! |---|---|---|
//! | Few-NERD re-split (`fewnerd_partial/{dev,test,big_test}.txt`) | CoNLL IOB2 | 53 fine types, named by [`FEWNERD_NAMES`] |
//! | WikiGold (`wikigold/wikigold.conll.txt`) | CoNLL IOB1 | PER/ORG/LOC/MISC → person, organization, location, miscellaneous |
//! | CoNLL-2003 **train** (`conll2003/eng.train`) | CoNLL IOB1 | as WikiGold |
//! | GLiNER open-type sample (`open_type_sample/sample_data.json`) | GLiNER, overlaps kept | lower-cased, `_` → space |
//!
//! **Held out**: WNUT-17 and CrossNER (and CoNLL-2003 dev/test) are the few-shot evaluation sets
//! and are never read here. Sentences are de-duplicated by text across all sources (the first
//! occurrence is kept; Few-NERD's dev and test overlap by 148 sentences); sentences without a
//! span are dropped (they carry no concept).

use std::collections::{BTreeMap, HashSet};

use crate::data::{detect_format, read_examples, ConllOptions, Example, Format};

use super::error::PretrainError;

/// One file of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSource {
    /// Dataset name (for reports).
    pub dataset: &'static str,
    /// Path relative to the data directory.
    pub path: &'static str,
}

/// The files the pool is made of, in order of precedence for duplicate sentences.
pub const POOL_SOURCES: &[PoolSource] = &[
    PoolSource { dataset: "fewnerd", path: "fewnerd_partial/dev.txt" },
    PoolSource { dataset: "fewnerd", path: "fewnerd_partial/test.txt" },
    PoolSource { dataset: "fewnerd", path: "fewnerd_partial/big_test.txt" },
    PoolSource { dataset: "wikigold", path: "wikigold/wikigold.conll.txt" },
    PoolSource { dataset: "conll2003", path: "conll2003/eng.train" },
    PoolSource { dataset: "open_type_sample", path: "open_type_sample/sample_data.json" },
];

/// Datasets that must never enter the pool: the few-shot evaluation sets.
pub const HELD_OUT: &[&str] = &["wnut17", "crossner"];

/// Few-NERD fine types (`coarse_fine` or `coarse-fine`) → concept names. A fine type "other"
/// is named after its coarse type; slashed alternatives keep their first reading.
pub const FEWNERD_NAMES: &[(&str, &str)] = &[
    ("art_broadcastprogram", "broadcast program"),
    ("art_film", "film"),
    ("art_music", "music"),
    ("art_other", "work of art"),
    ("art_painting", "painting"),
    ("art_writtenart", "written work"),
    ("building_airport", "airport"),
    ("building_hospital", "hospital"),
    ("building_hotel", "hotel"),
    ("building_library", "library"),
    ("building_other", "building"),
    ("building_restaurant", "restaurant"),
    ("building_sportsfacility", "sports facility"),
    ("building_theater", "theater"),
    ("event_attack/battle/war/militaryconflict", "military conflict"),
    ("event_disaster", "disaster"),
    ("event_election", "election"),
    ("event_other", "event"),
    ("event_protest", "protest"),
    ("event_sportsevent", "sports event"),
    ("location_GPE", "geopolitical entity"),
    ("location_bodiesofwater", "body of water"),
    ("location_island", "island"),
    ("location_mountain", "mountain"),
    ("location_other", "location"),
    ("location_park", "park"),
    ("location_road/railway/highway/transit", "road or railway"),
    ("organization_company", "company"),
    ("organization_education", "educational institution"),
    ("organization_government/governmentagency", "government agency"),
    ("organization_media/newspaper", "media organization"),
    ("organization_other", "organization"),
    ("organization_politicalparty", "political party"),
    ("organization_religion", "religious organization"),
    ("organization_showorganization", "show organization"),
    ("organization_sportsleague", "sports league"),
    ("organization_sportsteam", "sports team"),
    ("other_astronomything", "astronomical object"),
    ("other_award", "award"),
    ("other_biologything", "biological entity"),
    ("other_chemicalthing", "chemical"),
    ("other_currency", "currency"),
    ("other_disease", "disease"),
    ("other_educationaldegree", "educational degree"),
    ("other_god", "god"),
    ("other_language", "language"),
    ("other_law", "law"),
    ("other_livingthing", "living thing"),
    ("other_medical", "medical term"),
    ("person_actor", "actor"),
    ("person_artist/author", "artist"),
    ("person_athlete", "athlete"),
    ("person_director", "director"),
    ("person_other", "person"),
    ("person_politician", "politician"),
    ("person_scholar", "scholar"),
    ("person_soldier", "soldier"),
    ("product_airplane", "airplane"),
    ("product_car", "car"),
    ("product_food", "food"),
    ("product_game", "game"),
    ("product_other", "product"),
    ("product_ship", "ship"),
    ("product_software", "software"),
    ("product_train", "train"),
    ("product_weapon", "weapon"),
];

/// Plain names of the evaluation sets' labels (WNUT-17, CrossNER), for zero-shot tagging from
/// type names. Labels not listed are already words ("person", "band", "protein").
const EVAL_NAMES: &[(&str, &str)] = &[
    ("academicjournal", "academic journal"),
    ("astronomicalobject", "astronomical object"),
    ("chemicalcompound", "chemical compound"),
    ("chemicalelement", "chemical element"),
    ("creative-work", "creative work"),
    ("corporation", "company"),
    ("field", "field of study"),
    ("literarygenre", "literary genre"),
    ("metrics", "metric"),
    ("misc", "miscellaneous"),
    ("musicalartist", "musical artist"),
    ("musicalinstrument", "musical instrument"),
    ("musicgenre", "music genre"),
    ("organisation", "organization"),
    ("politicalparty", "political party"),
    ("programlang", "programming language"),
];

/// The type name that zero-shot tagging uses for an evaluation label: [`EVAL_NAMES`] for the
/// run-together labels of WNUT-17 and CrossNER, else [`natural_label`] with `-` as a space.
pub fn type_name(label: &str) -> String {
    match EVAL_NAMES.iter().find(|(k, _)| *k == label) {
        Some((_, name)) => (*name).to_string(),
        None => natural_label(label).replace('-', " "),
    }
}

/// The concept name of a dataset's label: CoNLL codes and Few-NERD types by table, anything
/// else lower-cased with `_` as a space (open types are already names).
pub fn natural_label(label: &str) -> String {
    match label {
        "PER" => return "person".into(),
        "ORG" => return "organization".into(),
        "LOC" => return "location".into(),
        "MISC" => return "miscellaneous".into(),
        _ => {}
    }
    let key = label.replacen('-', "_", 1);
    if let Some((_, name)) = FEWNERD_NAMES.iter().find(|(k, _)| *k == key) {
        return (*name).to_string();
    }
    label.replace('_', " ").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The examples of one source file, relabelled with [`natural_label`]. `name` labels messages.
/// CoNLL files are read strictly (a malformed line is an error naming it); GLiNER records keep
/// nested spans.
pub fn read_source(bytes: &[u8], name: &str) -> Result<Vec<Example>, PretrainError> {
    let mut examples = match detect_format(bytes, name) {
        Format::Gliner => crate::data::gliner::read_nested(bytes, name, false)?.examples,
        _ => read_examples(bytes, name, Format::Conll(ConllOptions::default()), false)?.examples,
    };
    for ex in &mut examples {
        for s in &mut ex.spans {
            s.label = natural_label(&s.label);
        }
    }
    Ok(examples)
}

/// Sentences and spans per dataset, and spans per concept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolReport {
    /// `dataset → (sentences kept, spans kept)`.
    pub datasets: BTreeMap<String, (usize, usize)>,
    /// Sentences dropped as duplicates of an earlier one.
    pub duplicates: usize,
    /// Sentences dropped for having no span.
    pub without_spans: usize,
    /// `concept → spans`.
    pub concepts: BTreeMap<String, usize>,
}

/// Merges sources read by [`read_source`] into one pool: `(dataset, examples)` in precedence
/// order. Refuses a held-out dataset.
pub fn merge_pool(sources: Vec<(String, Vec<Example>)>) -> Result<(Vec<Example>, PoolReport), PretrainError> {
    let mut report = PoolReport::default();
    let mut seen = HashSet::new();
    let mut pool = Vec::new();
    for (dataset, examples) in sources {
        if HELD_OUT.iter().any(|h| dataset.to_lowercase().contains(h)) {
            return Err(PretrainError::Invalid(format!("{dataset} is a held-out evaluation set")));
        }
        let entry = report.datasets.entry(dataset).or_default();
        for ex in examples {
            if ex.spans.is_empty() {
                report.without_spans += 1;
            } else if !seen.insert(ex.text.clone()) {
                report.duplicates += 1;
            } else {
                entry.0 += 1;
                entry.1 += ex.spans.len();
                for s in &ex.spans {
                    *report.concepts.entry(s.label.clone()).or_default() += 1;
                }
                pool.push(ex);
            }
        }
    }
    Ok((pool, report))
}

/// Reads [`POOL_SOURCES`] under `dir` (e.g. `../shared/data`) and merges them.
#[cfg(not(target_family = "wasm"))]
pub fn build_pool(dir: &std::path::Path) -> Result<(Vec<Example>, PoolReport), PretrainError> {
    let mut sources = Vec::new();
    for src in POOL_SOURCES {
        let path = dir.join(src.path);
        let bytes = std::fs::read(&path).map_err(|e| PretrainError::io(&path, e))?;
        sources.push((src.dataset.to_string(), read_source(&bytes, &path.display().to_string())?));
    }
    merge_pool(sources)
}


