//! The output files of a run and how they survive being killed.
//!
//! | file | written | holds |
//! |---|---|---|
//! | `OUTPUT` | appended, whole lines, `fsync` per batch | one [`AnnotatedSentence`] per line, with its `id` |
//! | `OUTPUT.skipped.jsonl` | same | one [`SkippedSentence`] per line |
//! | `OUTPUT.meta.json` | once, before the first line (temp file + rename) | the run's identity ([`RunIdentity`]) and settings |
//! | `OUTPUT.stats.json` | now and then, and at the end (temp file + rename) | the summary |
//!
//! A sentence is done when a complete line with its id is in the output or the skipped file;
//! there is no other record, so nothing can disagree with the data. A batch of lines is given
//! to the kernel in one `write_all` and then `fsync`ed; a kill during the write can leave a
//! partial last line and nothing worse. [`Journal::open`] cuts such a tail off (the sentence is
//! then sent again), refuses an output made for another input, prompt, model or matching
//! options, and takes an exclusive lock on the output (released by the kernel when the process
//! dies, so a killed run never leaves a stale lock behind).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::AnnotateError;
use super::stats::{Drops, Stats};
use super::{parse_annotated_line, AnnotatedSentence, MatchOptions, SkippedSentence};

/// What must not change between the runs that write one output: otherwise ids would point to
/// other sentences, or one file would mix two annotation procedures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// Number of sentences after splitting.
    pub sentences: usize,
    /// [`super::Corpus::fingerprint`].
    pub corpus: String,
    /// [`super::Template::fingerprint`].
    pub template: String,
    /// The model name sent to the server.
    pub model: String,
    /// How spans are found.
    pub matching: MatchOptions,
}

/// `OUTPUT.meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always `"nuner annotate"`.
    pub tool: String,
    /// Must equal between runs.
    pub identity: RunIdentity,
    /// Informative (temperature, max tokens, input name...): a change is reported, not refused.
    pub settings: serde_json::Value,
}

/// The paths of a run's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The output (annotated sentences).
    pub output: PathBuf,
    /// `OUTPUT.skipped.jsonl`.
    pub skipped: PathBuf,
    /// `OUTPUT.meta.json`.
    pub meta: PathBuf,
    /// `OUTPUT.stats.json`.
    pub stats: PathBuf,
}

impl Paths {
    /// The companions of `output`: its name plus `.skipped.jsonl`, `.meta.json`, `.stats.json`.
    pub fn new(output: &Path) -> Self {
        let with = |suffix: &str| {
            let mut s = output.as_os_str().to_owned();
            s.push(suffix);
            PathBuf::from(s)
        };
        Self {
            output: output.to_path_buf(),
            skipped: with(".skipped.jsonl"),
            meta: with(".meta.json"),
            stats: with(".stats.json"),
        }
    }
}

/// What earlier runs left.
#[derive(Debug, Clone, Default)]
pub struct Resumed {
    /// `done[id]`: the sentence has a line in the output or the skipped file.
    pub done: Vec<bool>,
    /// Totals over both files.
    pub stats: Stats,
    /// Files whose partial last line was cut off, and how many bytes were cut.
    pub repaired: Vec<(PathBuf, u64)>,
    /// Settings that differ from the previous run's (reported, not refused).
    pub changed_settings: Vec<String>,
    /// Drop counts of earlier runs (from their stats file) and the number of sentences they
    /// cover: fewer than the lines if a run was killed between two stats writes.
    pub previous_drops: (Drops, u64),
}

/// The open output of a run, locked.
pub struct Journal {
    paths: Paths,
    output: File,
    skipped: File,
}

impl Journal {
    /// Opens (or creates) the output for `meta`'s run over `sentences`; see the module docs.
    pub fn open(output: &Path, meta: &Meta, sentences: &[String]) -> Result<(Self, Resumed), AnnotateError> {
        let paths = Paths::new(output);
        if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| AnnotateError::io(dir, e))?;
        }
        let open = |p: &Path| {
            OpenOptions::new().read(true).append(true).create(true).open(p).map_err(|e| AnnotateError::io(p, e))
        };
        let out_file = open(&paths.output)?;
        if out_file.try_lock().is_err() {
            return Err(resume_err(
                output,
                "another process is writing this output (is a nuner annotate still running?)".into(),
            ));
        }
        let skipped_file = open(&paths.skipped)?;
        let len = |f: &File, p: &Path| f.metadata().map(|m| m.len()).map_err(|e| AnnotateError::io(p, e));
        let mut resumed = Resumed { done: vec![false; sentences.len()], ..Default::default() };
        if len(&out_file, &paths.output)? + len(&skipped_file, &paths.skipped)? == 0 {
            write_atomic(&paths.meta, &serde_json::to_vec_pretty(meta).expect("meta serialises"))?;
            return Ok((Self { paths, output: out_file, skipped: skipped_file }, resumed));
        }
        // Something was written: it must be this run's before anything is read or repaired.
        let Ok(bytes) = std::fs::read(&paths.meta) else {
            return Err(resume_err(
                output,
                format!(
                "the file is not empty but {} is missing, so it was not written by this run; choose another --output",
                paths.meta.display()
            ),
            ));
        };
        let old: Meta = serde_json::from_slice(&bytes)
            .map_err(|e| resume_err(&paths.meta, format!("unreadable ({e}); choose another --output")))?;
        let diffs = identity_diffs(&old.identity, &meta.identity);
        if !diffs.is_empty() {
            return Err(resume_err(
                output,
                format!(
                    "written by a different run ({}); resume with the same input, splitting, prompt, model and \
                 matching options, or choose another --output",
                    diffs.join("; ")
                ),
            ));
        }
        resumed.changed_settings = setting_diffs(&old.settings, &meta.settings);
        resumed.previous_drops = previous_drops(&paths.stats);
        for (file, path, is_output) in [(&out_file, &paths.output, true), (&skipped_file, &paths.skipped, false)] {
            let cut = read_lines(file, path, &mut |bytes: &[u8]| {
                let (id, text) = if is_output {
                    let s: AnnotatedSentence = parse_annotated_line(bytes)?;
                    let id = s.id.ok_or("no \"id\": not written by nuner annotate")?;
                    resumed.stats.add_sentence(&s);
                    (id, s.text)
                } else {
                    let s: SkippedSentence =
                        serde_json::from_slice(bytes).map_err(|e| format!("not a skipped-sentence line: {e}"))?;
                    resumed.stats.add_skipped(s.reason);
                    (s.id, s.text)
                };
                match resumed.done.get_mut(id) {
                    None => Err(format!("id {id} is past the input's {} sentences", sentences.len())),
                    Some(true) => Err(format!("id {id} appears a second time")),
                    Some(_) if sentences[id] != text => {
                        Err(format!("the text of id {id} is not sentence {id} of the input"))
                    }
                    Some(d) => {
                        *d = true;
                        Ok(())
                    }
                }
            })?;
            if cut > 0 {
                resumed.repaired.push((path.clone(), cut));
            }
        }
        if old != *meta {
            write_atomic(&paths.meta, &serde_json::to_vec_pretty(meta).expect("meta serialises"))?;
        }
        Ok((Self { paths, output: out_file, skipped: skipped_file }, resumed))
    }

    /// The run's file paths.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Appends whole lines (each ending in `\n`) to the output and the skipped file, each in
    /// one write, then flushes them to disk.
    pub fn append(&mut self, output: &[u8], skipped: &[u8]) -> Result<(), AnnotateError> {
        for (file, bytes, path) in
            [(&mut self.output, output, &self.paths.output), (&mut self.skipped, skipped, &self.paths.skipped)]
        {
            if !bytes.is_empty() {
                debug_assert!(bytes.ends_with(b"\n"));
                file.write_all(bytes).and_then(|()| file.sync_data()).map_err(|e| AnnotateError::io(path, e))?;
            }
        }
        Ok(())
    }

    /// Replaces the stats file.
    pub fn write_stats(&self, stats: &serde_json::Value) -> Result<(), AnnotateError> {
        write_atomic(&self.paths.stats, &serde_json::to_vec_pretty(stats).expect("stats serialise"))
    }
}

fn resume_err(file: &Path, message: String) -> AnnotateError {
    AnnotateError::Resume { file: file.display().to_string(), message }
}

/// Calls `each` on every complete non-blank line (without its `\n`); an error names the line.
/// Then cuts a partial last line off the file and returns the number of bytes cut.
fn read_lines(
    file: &File,
    path: &Path,
    each: &mut dyn FnMut(&[u8]) -> Result<(), String>,
) -> Result<u64, AnnotateError> {
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let (mut good, mut total, mut line_no) = (0u64, 0u64, 0usize);
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf).map_err(|e| AnnotateError::io(path, e))?;
        if read == 0 {
            break;
        }
        total += read as u64;
        line_no += 1;
        if buf.last() != Some(&b'\n') {
            break;
        }
        good = total;
        let line = &buf[..buf.len() - 1];
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        each(line).map_err(|message| AnnotateError::Output {
            file: path.display().to_string(),
            line: line_no,
            message,
        })?;
    }
    let cut = total - good;
    if cut > 0 {
        file.set_len(good).and_then(|()| file.sync_all()).map_err(|e| AnnotateError::io(path, e))?;
    }
    Ok(cut)
}

fn identity_diffs(old: &RunIdentity, new: &RunIdentity) -> Vec<String> {
    let mut d = Vec::new();
    if old.sentences != new.sentences || old.corpus != new.corpus {
        d.push(format!(
            "the input now splits into {} sentences with another content (was {})",
            new.sentences, old.sentences
        ));
    }
    if old.template != new.template {
        d.push("the prompt template changed".into());
    }
    if old.model != new.model {
        d.push(format!("--llm-model was {:?}, now {:?}", old.model, new.model));
    }
    if old.matching != new.matching {
        d.push(format!("matching options were {:?}, now {:?}", old.matching, new.matching));
    }
    d
}

fn setting_diffs(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let Some(new) = new.as_object() else { return Vec::new() };
    new.iter()
        .filter(|(k, v)| old.get(k.as_str()) != Some(v))
        .map(|(k, v)| format!("{k}: {} -> {v}", old.get(k.as_str()).unwrap_or(&serde_json::Value::Null)))
        .collect()
}

/// Drops recorded by earlier runs in the stats file, and how many sentences they cover.
fn previous_drops(stats: &Path) -> (Drops, u64) {
    let read = || -> Option<(Drops, u64)> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(stats).ok()?).ok()?;
        let drops = serde_json::from_value(v.get("drops_all_runs")?.clone()).ok()?;
        Some((drops, v.get("drops_cover_sentences")?.as_u64()?))
    };
    read().unwrap_or_default()
}

/// Writes `bytes` to a temporary file beside `path`, flushes it and renames it over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AnnotateError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp).map_err(|e| AnnotateError::io(&tmp, e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| AnnotateError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| AnnotateError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(model: &str) -> Meta {
        Meta {
            tool: "nuner annotate".into(),
            identity: RunIdentity {
                sentences: 3,
                corpus: "c".into(),
                template: "t".into(),
                model: model.into(),
                matching: MatchOptions::default(),
            },
            settings: serde_json::json!({"temperature": 0.0}),
        }
    }

    #[test]
    fn resumes_repairs_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.jsonl");
        let sentences: Vec<String> = ["a b", "c", "d"].map(String::from).to_vec();
        {
            let (mut j, r) = Journal::open(&out, &meta("m"), &sentences).unwrap();
            assert_eq!(r.done, vec![false; 3]);
            assert!(Journal::open(&out, &meta("m"), &sentences).err().unwrap().to_string().contains("another process"));
            j.append(
                b"{\"id\":1,\"text\":\"c\",\"spans\":[]}\n",
                b"{\"id\":2,\"text\":\"d\",\"reason\":\"rejected\"}\n",
            )
            .unwrap();
        }
        let mut f = OpenOptions::new().append(true).open(&out).unwrap();
        f.write_all(b"{\"id\":0,\"text\":\"a b\",\"sp").unwrap();
        drop(f);
        let (_, r) = Journal::open(&out, &meta("m"), &sentences).unwrap();
        assert_eq!(r.done, vec![false, true, true]);
        assert_eq!(r.repaired.len(), 1);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"id\":1,\"text\":\"c\",\"spans\":[]}\n");
        assert_eq!((r.stats.sentences, r.stats.skipped_total()), (1, 1));
        let e = Journal::open(&out, &meta("other"), &sentences).err().unwrap().to_string();
        assert!(e.contains("--llm-model was \"m\", now \"other\""), "{e}");
        let mut changed = meta("m");
        changed.settings = serde_json::json!({"temperature": 0.5});
        assert_eq!(
            Journal::open(&out, &changed, &sentences).unwrap().1.changed_settings,
            vec!["temperature: 0.0 -> 0.5"]
        );
        let other: Vec<String> = ["a b", "X", "d"].map(String::from).to_vec();
        let e = Journal::open(&out, &meta("m"), &other).err().unwrap().to_string();
        assert!(e.contains("o.jsonl:1: the text of id 1"), "{e}");
        std::fs::remove_file(Paths::new(&out).meta).unwrap();
        assert!(Journal::open(&out, &meta("m"), &sentences)
            .err()
            .unwrap()
            .to_string()
            .contains("meta.json is missing"));
        // A file that is not ours is neither read nor cut, even without a final newline.
        let foreign = dir.path().join("notes.txt");
        std::fs::write(&foreign, "my notes").unwrap();
        assert!(Journal::open(&foreign, &meta("m"), &sentences).is_err());
        assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "my notes");
    }
}
