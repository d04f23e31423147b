//! NuNER pre-training: the CSV reader, learning on a tiny pool, the Hugging Face output, and
//! resuming after SIGKILL with the same loss curve.

mod common;

use common::*;
use nuner::annotate::Occurrences;
use nuner::data::{write_jsonl, Example, Span};
use nuner::embed::block_on;
use nuner::encoder::TokenBatch;
use nuner::pretrain::pool::build_pool;
use nuner::pretrain::run::{run_pretraining, MetricsLine};
use nuner::pretrain::{read_nuner_csv, PretrainConfig, Pretrainer};
use nuner::ModelFiles;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const CSV: &str = r#"id,input,output
0,Anna flew to Paris from Lyon's airport.,"['Anna <> person', ""Lyon's airport <> airport"", 'Paris <> city', 'Berlin <> city']"
1,It was a concept.,"['concept <> concept', 'It <> thing']"
2,Nothing here.,['Berlin <> city']
3,"Paris, Paris!",['paris <> city']
"#;

fn span_texts(ex: &Example) -> Vec<(String, &str)> {
    ex.spans.iter().map(|s| (ex.span_text(s).unwrap(), s.label.as_str())).collect()
}

#[test]
fn nuner_csv_matches_spans_and_drops_concept_rows() {
    let mut rows = read_nuner_csv(CSV.as_bytes(), "t.csv", Occurrences::All).unwrap();
    let examples: Vec<Example> = rows.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(examples.len(), 2);
    assert_eq!(
        span_texts(&examples[0]),
        [("Anna".into(), "person"), ("Paris".into(), "city"), ("Lyon's airport".into(), "airport")]
    );
    assert_eq!(span_texts(&examples[1]), [("Paris".into(), "city"), ("Paris".into(), "city")], "all occurrences, case-insensitive");
    let s = rows.stats();
    assert_eq!((s.rows, s.kept, s.generic_rows, s.no_span_rows), (4, 2, 1, 1));
    assert_eq!(s.drops.not_found, 1, "Berlin is not in the first sentence");

    let first: Vec<Example> = read_nuner_csv(CSV.as_bytes(), "t.csv", Occurrences::First).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(first[1].spans, vec![Span::new(0, 5, "city")]);

    let bad = "input,output\nok,['ok <> x']\nno,\"['no <> x'\"\n";
    let e = read_nuner_csv(bad.as_bytes(), "b.csv", Occurrences::All).unwrap().collect::<Result<Vec<_>, _>>().unwrap_err();
    assert!(e.to_string().starts_with("b.csv:3: `output` is not a list of strings"), "{e}");
    let e = read_nuner_csv("text,spans\n".as_bytes(), "h.csv", Occurrences::All).err().unwrap();
    assert!(e.to_string().starts_with("h.csv:1: no `input` column"), "{e}");
}

/// Sentences whose concepts a tiny model can learn to tell apart.
fn tiny_pool() -> Vec<Example> {
    let rows: [(&str, &[(&str, &str)]); 8] = [
        ("anna met bob in paris", &[("anna", "person"), ("bob", "person"), ("paris", "city")]),
        ("the train to london was late", &[("train", "vehicle"), ("london", "city")]),
        ("tom drove a car to rome", &[("tom", "person"), ("car", "vehicle"), ("rome", "city")]),
        ("maria and jon live in oslo", &[("maria", "person"), ("jon", "person"), ("oslo", "city")]),
        ("a bus left madrid at noon", &[("bus", "vehicle"), ("madrid", "city")]),
        ("eva took the ship to lima", &[("eva", "person"), ("ship", "vehicle"), ("lima", "city")]),
        ("the truck reached berlin", &[("truck", "vehicle"), ("berlin", "city")]),
        ("ali and zoe flew to cairo", &[("ali", "person"), ("zoe", "person"), ("cairo", "city")]),
    ];
    rows.iter()
        .map(|(text, spans)| {
            let spans = spans
                .iter()
                .map(|(w, l)| {
                    let start = text.find(w).unwrap();
                    Span::new(start, start + w.len(), *l)
                })
                .collect();
            Example::new(*text, spans)
        })
        .collect()
}

fn tiny_files() -> ModelFiles {
    ModelFiles::from_dir(&fixture("tiny-bert")).unwrap()
}

/// The tiny BERT with dropout off (`hidden_dropout_prob` 0), for runs compared step by step.
fn no_dropout() -> ModelFiles {
    let mut files = tiny_files();
    let mut config: serde_json::Value = serde_json::from_slice(&files.config).unwrap();
    config["hidden_dropout_prob"] = 0.0.into();
    files.config = serde_json::to_vec(&config).unwrap();
    files
}

#[test]
fn loss_decreases_on_a_tiny_pool() {
    let config = PretrainConfig::new().with_steps(30).with_batch_size(4).with_learning_rate(1e-3).with_frozen_layers(Some(1));
    let mut t = Pretrainer::new(config, tiny_files(), tiny_pool(), &cpu()).unwrap();
    let losses: Vec<f32> = (0..30).map(|_| block_on(t.step()).unwrap().loss).collect();
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (early, late) = (mean(&losses[..6]), mean(&losses[24..]));
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(late < 0.5 * early, "loss did not halve: first {early}, last {late}: {losses:?}");
}

fn hidden_states(encoder: &nuner::Encoder, config: &nuner::EncoderConfig, rows: &[Vec<u32>]) -> Vec<f32> {
    let batch = TokenBatch::right_padded(rows, config.pad_token_id as u32);
    all_hidden(&encoder.forward(batch.to_input(config, &cpu())))
}

#[test]
fn hf_output_loads_back_with_the_same_hidden_states() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let config = PretrainConfig::new().with_steps(3).with_batch_size(4).with_learning_rate(1e-3);
    let mut t = Pretrainer::new(config, tiny_files(), tiny_pool(), &cpu()).unwrap();
    let tokenizer = std::fs::read(fixture("tiny-bert/tokenizer.json")).unwrap();
    run_pretraining(&mut t, &out, 2, &tokenizer, &mut |_, _| {}).unwrap();
    assert!(out.join("model.safetensors").is_file() && !out.join("model.bpk").exists());

    let loaded = load(&out, &cpu());
    let original = load(&fixture("tiny-bert"), &cpu());
    let rows = vec![vec![2, 117, 134, 114, 1, 111, 3], vec![2, 200, 300, 3]];
    let ours = hidden_states(&t.text_encoder(), t.encoder_config(), &rows);
    let back = hidden_states(&loaded.encoder, &loaded.config, &rows);
    assert_close("text tower written and read back", &back, &ours, 1e-5);
    let before = hidden_states(&original.encoder, &original.config, &rows);
    assert!(max_abs_diff(&before, &ours).0 > 1e-4, "training changed nothing");
    // The frozen bottom (embeddings + layer 0 of 4 by default: 2 layers) is unchanged.
    let n = rows.iter().map(Vec::len).max().unwrap() * rows.len() * loaded.config.hidden_size;
    assert_close("frozen embeddings and layers", &back[..3 * n], &before[..3 * n], 1e-6);

    let concept = load(&out.join("concept_tower"), &cpu());
    let tower = hidden_states(&t.concept_encoder(), t.encoder_config(), &rows);
    assert_close("concept tower", &hidden_states(&concept.encoder, &concept.config, &rows), &tower, 1e-5);
}

fn metrics(out: &Path) -> Vec<MetricsLine> {
    let text = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn write_run(dir: &Path, name: &str, steps: usize) -> std::path::PathBuf {
    let toml = format!(
        "model = {model:?}\ndata = [\"pool.jsonl\"]\nout = {name:?}\nsteps = {steps}\nbatch_size = 3\nlr = 1e-3\n\
         warmup = 5\ncheckpoint_every = 7\nseed = 3\ndevice = \"cpu\"\n",
        model = fixture("tiny-bert").display().to_string(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml).unwrap();
    path
}

fn pretrain(config: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_nuner"))
        .args(["pretrain", "--config", config.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("runs nuner")
}

#[test]
fn resume_after_sigkill_repeats_the_uninterrupted_losses() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pool.jsonl"), write_jsonl(&tiny_pool())).unwrap();
    let steps = 300;
    let whole = write_run(tmp.path(), "whole", steps);
    assert!(pretrain(&whole).wait().unwrap().success());
    let reference = metrics(&tmp.path().join("whole"));
    assert_eq!(reference.iter().map(|m| m.step).collect::<Vec<_>>(), (1..=steps).collect::<Vec<_>>());

    let killed = write_run(tmp.path(), "killed", steps);
    let out = tmp.path().join("killed");
    let mut child = pretrain(&killed);
    let deadline = Instant::now() + Duration::from_secs(120);
    while metrics_lines(&out) < 40 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = metrics_lines(&out);
    assert!(at_kill < steps, "killed mid-run ({at_kill} steps logged)");
    assert!(pretrain(&killed).wait().unwrap().success());
    let resumed = metrics(&out);
    assert_eq!(resumed.iter().map(|m| m.step).collect::<Vec<_>>(), (1..=steps).collect::<Vec<_>>());
    for (a, b) in reference.iter().zip(&resumed) {
        assert!((a.loss - b.loss).abs() <= 1e-6, "step {}: {} uninterrupted vs {} resumed", a.step, a.loss, b.loss);
        assert_eq!(a.lr, b.lr, "step {}", a.step);
    }
    let exact = reference.iter().zip(&resumed).filter(|(a, b)| a.loss == b.loss).count();
    println!("{exact} of {steps} losses bit-identical; killed after {at_kill} logged steps");
    let rows = vec![vec![2, 117, 134, 114, 1, 111, 3], vec![2, 200, 300, 3]];
    let (a, b) = (load(&tmp.path().join("whole"), &cpu()), load(&out, &cpu()));
    let d = max_abs_diff(&hidden_states(&a.encoder, &a.config, &rows), &hidden_states(&b.encoder, &b.config, &rows)).0;
    println!("final hidden states differ by at most {d:e}");
    assert!(d <= 1e-5, "final models differ by {d:e}");
}

fn metrics_lines(out: &Path) -> usize {
    std::fs::read_to_string(out.join("metrics.jsonl")).map_or(0, |t| t.lines().count())
}

#[test]
fn pool_from_shared_data_holds_out_the_evaluation_sets() {
    let Some(shared) = shared_dir() else {
        println!("skipped: ../shared/data not found (set NUNER_SHARED_DIR)");
        return;
    };
    let (pool, report) = build_pool(&shared.join("data")).unwrap();
    assert_eq!(report.datasets.keys().collect::<Vec<_>>(), ["conll2003", "fewnerd", "open_type_sample", "wikigold"]);
    for concept in ["politician", "geopolitical entity", "person", "organization", "miscellaneous"] {
        assert!(report.concepts.contains_key(concept), "{concept} missing");
    }
    assert!(!report.concepts.keys().any(|c| c.contains('_') || c.chars().any(char::is_uppercase)), "{:?}", report.concepts.keys());
    assert!(pool.len() > 30_000, "{}", pool.len());
    let wnut = std::fs::read_to_string(shared.join("data/wnut17/emerging.test.annotated")).unwrap();
    let first: Vec<&str> = wnut.lines().take_while(|l| !l.trim().is_empty()).map(|l| l.split('\t').next().unwrap()).collect();
    assert!(!pool.iter().any(|e| e.text == first.join(" ")), "a WNUT-17 test sentence is in the pool");
}

#[test]
fn python_list_literals() {
    use nuner::pretrain::nuner_csv::parse_py_str_list;
    let v = parse_py_str_list(r#"['Paris <> city', "Lyon's mayor <> office" , 'a\'b\\c\x41\u00e9 <> x',]"#).unwrap();
    assert_eq!(v, ["Paris <> city", "Lyon's mayor <> office", "a'b\\cAé <> x"]);
    assert_eq!(parse_py_str_list(" [ ] ").unwrap(), Vec::<String>::new());
    assert_eq!(parse_py_str_list("['a' 'b']").unwrap(), ["ab"]);
    for bad in ["", "['a'", "['a' x]", "[1]", "['a'] x", r"['\x4']"] {
        assert!(parse_py_str_list(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn concept_names_and_pool_merging() {
    use nuner::pretrain::pool::{merge_pool, natural_label, FEWNERD_NAMES};
    assert_eq!(natural_label("person_politician"), "politician");
    assert_eq!(natural_label("person-politician"), "politician");
    assert_eq!(natural_label("location_GPE"), "geopolitical entity");
    assert_eq!(natural_label("location-GPE"), "geopolitical entity");
    assert_eq!(natural_label("PER"), "person");
    assert_eq!(natural_label("musical_Instrument"), "musical instrument");
    use nuner::pretrain::pool::type_name;
    assert_eq!(type_name("musicalartist"), "musical artist");
    assert_eq!(type_name("creative-work"), "creative work");
    assert_eq!(type_name("PER"), "person");
    assert_eq!(type_name("band"), "band");
    assert_eq!(FEWNERD_NAMES.len(), 66);
    let a = vec![Example::new("Anna", vec![Span::new(0, 4, "person")]), Example::new("x", vec![])];
    let b = vec![Example::new("Anna", vec![Span::new(0, 4, "person")])];
    let (pool, r) = merge_pool(vec![("a".into(), a), ("b".into(), b.clone())]).unwrap();
    assert_eq!((pool.len(), r.duplicates, r.without_spans), (1, 1, 1));
    assert!(merge_pool(vec![("wnut17".into(), b)]).is_err());
}

#[test]
fn batch_order_is_a_function_of_the_step() {
    use nuner::pretrain::{BatchPlan, DataPosition};
    let plan = BatchPlan { examples: 10, batch_size: 3, seed: 5 };
    assert_eq!(plan.per_epoch(), 3);
    assert_eq!(plan.position(7), DataPosition { epoch: 2, index: 1 });
    let mut epoch: Vec<usize> = (0..3).flat_map(|i| plan.indices(DataPosition { epoch: 0, index: i })).collect();
    epoch.sort_unstable();
    epoch.dedup();
    assert_eq!(epoch.len(), 9, "no example twice in an epoch");
    assert_ne!(plan.indices(plan.position(0)), plan.indices(plan.position(3)), "epochs are reshuffled");
    let small = BatchPlan { examples: 2, batch_size: 8, seed: 0 };
    assert_eq!(small.indices(small.position(5)).len(), 2);
}

#[test]
fn batch_targets_cover_every_sub_token_of_a_span() {
    use nuner::pretrain::make_batch;
    let model = load(&fixture("tiny-bert"), &cpu());
    let ex = Example::new("anna met bob", vec![Span::new(0, 4, "person"), Span::new(9, 12, "person"), Span::new(0, 12, "event")]);
    let b = make_batch(&[&ex], &model.tokenizer, 0, 64).unwrap();
    let tokens = model.tokenizer.tokenize(&ex.text).unwrap();
    assert_eq!(b.concepts, ["person", "event"]);
    let n = tokens.len();
    assert_eq!(b.text.seq, n + 2);
    assert_eq!(b.token_mask, [vec![0.0], vec![1.0; n], vec![0.0]].concat());
    for (i, &(s, e)) in tokens.offsets.iter().enumerate() {
        let row = &b.targets[(i + 1) * 2..(i + 2) * 2];
        let person = (s < 4) || (e > 9);
        assert_eq!(row, [f32::from(person), 1.0], "token {i} {:?}", tokens.tokens[i]);
    }
    assert!(b.targets[..2].iter().chain(&b.targets[(n + 1) * 2..]).all(|&t| t == 0.0), "specials are never positives");
    assert!(tokens.tokens.iter().filter(|t| t.starts_with("##")).count() > 0, "the sample has sub-tokens");
    assert_eq!(b.concept_mask.iter().filter(|&&m| m == 1.0).count(), b.concept_ids.input_ids.iter().filter(|&&i| i > 3).count());
}

#[test]
fn bce_matches_hand_computation() {
    use burn::prelude::*;
    use burn::tensor::TensorData;
    use nuner::pretrain::concept_bce;
    let device = cpu();
    let t3 = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [1, 2, 2]), &device);
    let mask = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0], [1, 2]), &device);
    let got: f32 = concept_bce(t3(vec![2.0, -1.0, 0.5, 3.0]), t3(vec![1.0, 0.0, 0.0, 1.0]), mask, 2.0).into_scalar();
    let log_sigmoid = |z: f32| -(1.0 + (-z).exp()).ln();
    let want = (-2.0 * log_sigmoid(2.0) - log_sigmoid(1.0)) / 2.0;
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
}

/// The kept concept tower tags text from type names alone: after pre-training on the tiny
/// pool, `nuner predict --types` finds the memorised entities; `nuner eval --zero-shot`
/// scores a labelled file; a model without a concept tower is refused with a clear error.
#[test]
fn zero_shot_from_type_names_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pool.jsonl"), write_jsonl(&tiny_pool())).unwrap();
    // Long enough for the tiny towers to memorise the pool: the loss sits on a plateau near
    // 0.42 until step ~600, then falls to ~2e-4 by step 1500 (about 10 s).
    let config = tmp.path().join("zs.toml");
    std::fs::write(
        &config,
        format!(
            "model = {:?}\ndata = [\"pool.jsonl\"]\nout = \"zs\"\nsteps = 1500\nbatch_size = 4\nlr = 3e-3\nwarmup = 20\n\
             frozen_layers = 0\ncheckpoint_every = 10000\nseed = 3\ndevice = \"cpu\"\n",
            fixture("tiny-bert").display().to_string()
        ),
    )
    .unwrap();
    assert!(pretrain(&config).wait().unwrap().success());
    let out = tmp.path().join("zs");
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_nuner"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let model = out.to_str().unwrap();
    let text = "tom drove a car to rome\nanna met bob in paris\n";
    let o = run(&["predict", "--model", model, "--types", "city, person, vehicle"], text);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Example> = String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let found: Vec<(String, &str)> = lines.iter().flat_map(span_texts).collect();
    println!("zero-shot spans: {found:?}");
    for want in [("rome", "city"), ("paris", "city"), ("tom", "person"), ("car", "vehicle")] {
        assert!(found.contains(&(want.0.to_string(), want.1)), "{want:?} not in {found:?}");
    }

    // Scored on a labelled file: every label is a type name.
    let gold: Vec<Example> = tiny_pool().into_iter().take(4).collect();
    std::fs::write(tmp.path().join("gold.jsonl"), write_jsonl(&gold)).unwrap();
    let o = run(&["eval", "--model", model, "--zero-shot", "--no-cache", "--test", tmp.path().join("gold.jsonl").to_str().unwrap()], "");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_str(String::from_utf8(o.stdout).unwrap().lines().last().unwrap()).unwrap();
    let f1 = report["entity_micro_f1"].as_f64().unwrap();
    println!("zero-shot entity F1 on 4 training sentences: {f1:.3}");
    assert!(f1 > 0.5, "zero-shot F1 {f1}");

    // The base checkpoint has no concept tower.
    let base = fixture("tiny-bert");
    let o = run(&["predict", "--model", base.to_str().unwrap(), "--types", "city"], "rome\n");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("concept_tower") && err.contains("nuner pretrain"), "{err}");
}

/// Pre-training runs on burn-wgpu (lavapipe in CI): with dropout off (`hidden_dropout_prob`
/// 0 in config.json; each device draws its own masks otherwise), the first step's loss equals
/// the CPU backend's, and 30 steps halve the loss as on the CPU.
#[cfg(feature = "wgpu")]
#[test]
fn pretraining_runs_on_wgpu_like_on_the_cpu() {
    let gpu = nuner::device::select_device("wgpu").expect("a wgpu adapter (CI installs Mesa's lavapipe)");
    let config = || PretrainConfig::new().with_steps(30).with_batch_size(4).with_learning_rate(1e-3).with_frozen_layers(Some(1));
    let mut on_cpu = Pretrainer::new(config(), no_dropout(), tiny_pool(), &cpu()).unwrap();
    let mut on_gpu = Pretrainer::new(config(), no_dropout(), tiny_pool(), &gpu).unwrap();
    let first_cpu = block_on(on_cpu.step()).unwrap().loss;
    let mut losses = vec![block_on(on_gpu.step()).unwrap().loss];
    assert!((first_cpu - losses[0]).abs() <= 1e-4 * first_cpu.abs().max(1.0), "first loss: cpu {first_cpu}, wgpu {}", losses[0]);
    losses.extend((1..30).map(|_| block_on(on_gpu.step()).unwrap().loss));
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (early, late) = (mean(&losses[..6]), mean(&losses[24..]));
    println!("wgpu: first loss {} (cpu {first_cpu}), mean of the last 6 {late}", losses[0]);
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(late < 0.5 * early, "loss did not halve on wgpu: first {early}, last {late}: {losses:?}");
}

/// Data-parallel pre-training is the single-device step computed in pieces: with dropout off,
/// two CPU replicas give the same losses and the same weights as one device (the gradients of
/// the shards, moved to the main device and summed by Burn's accumulator, are the batch's).
#[test]
fn data_parallel_steps_equal_single_device_steps() {
    // A batch of 5 sentences: shards of 3 and 2, with concepts that only one shard holds.
    let config = || PretrainConfig::new().with_steps(6).with_batch_size(5).with_learning_rate(1e-3).with_frozen_layers(Some(1));
    let mut single = Pretrainer::new(config(), no_dropout(), tiny_pool(), &cpu()).unwrap();
    let mut parallel = Pretrainer::new(config(), no_dropout(), tiny_pool(), &cpu()).unwrap().with_replicas(&[cpu(), cpu()]);
    assert_eq!(parallel.replicas(), 2);
    for step in 0..6 {
        let (a, b) = (block_on(single.step()).unwrap(), block_on(parallel.step()).unwrap());
        assert_eq!((a.tokens, a.concepts), (b.tokens, b.concepts));
        assert!((a.loss - b.loss).abs() <= 1e-5 * a.loss.abs().max(1.0), "step {step}: one device {}, two {}", a.loss, b.loss);
    }
    let rows = [vec![2u32, 40, 41, 42, 3]];
    let enc = |t: &Pretrainer| hidden_states(&t.text_encoder(), t.encoder_config(), &rows);
    let (ws, wp) = (enc(&single), enc(&parallel));
    assert!(max_abs_diff(&ws, &wp).0 < 1e-4, "weights drifted apart: {:?}", max_abs_diff(&ws, &wp));
    assert!(max_abs_diff(&ws, &enc(&Pretrainer::new(config(), no_dropout(), tiny_pool(), &cpu()).unwrap())).0 > 1e-3, "training moved nothing");
}
