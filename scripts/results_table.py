#!/usr/bin/env python3
"""Formats docs/RESULTS.md from `nuner experiment` output and the reference probe's output.
Usage: results_table.py OURS.json REFERENCE.json > docs/RESULTS.md"""
import json, statistics as st, sys
from collections import defaultdict

ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
ORDER = ["conll2003", "wnut17", "crossner_ai", "crossner_literature", "crossner_music", "crossner_politics", "crossner_science"]


def group(runs, metric):
    g = defaultdict(list)
    for r in runs:
        g[(r["dataset"], r["k"])].append(100 * r[metric])
    return g


ks = sorted({r["k"] for r in ours["runs"]})
datasets = [d for d in ORDER if any(r["dataset"] == d for r in ours["runs"])]
seeds = sorted({r["seed"] for r in ours["runs"]})
out = []
p = out.append
p("# Few-shot results")
p("")
p("Reproduce with `./scripts/results.sh` (about 20 minutes on 2 cores). Protocol: for each dataset, k and seed,")
p("sample sentences from the training file until every entity type has at least k mentions (seeded), train a")
p(f"**{ours['head']}** head on frozen word features, score it on the **full test file**. Seeds: {', '.join(map(str, seeds))};")
p("figures are mean ± standard deviation over seeds, in percent.")
p("")
p(f"- Encoder: `{ours['model']}` (all-MiniLM-L6-v2, fingerprint `{ours['fingerprint']}`); features: hidden states "
  f"{ours['features']['layers']} concatenated, {ours['features']['pooling']} sub-token (NuNER's last ⊕ middle recipe).")
t = ours["training"]
p(f"- Head training: AdamW, {t['steps']} full-batch steps, peak learning rate {t['learning_rate']} with cosine decay, "
  f"L2 {t['l2']} (= scikit-learn C = {1 / t['l2']:g}), O weight {t['o_weight']}.")
p("- Entity F1: seqeval strict IOB2, micro-averaged. Token F1: per entity type over word tokens (B-/I- merged, O")
p("  excluded), macro-averaged — the metric of the NuNER model cards.")
p(f"- Reference: {ref['reference']}, on the exact features and samples exported by the same run.")
p("")


def table(metric, title):
    a, b = group(ours["runs"], metric), group(ref["runs"], metric)
    p(f"## {title}")
    p("")
    p("| dataset | " + " | ".join(f"k={k}" for k in ks) + " |")
    p("|---|" + "---|" * len(ks))
    worst = 0.0
    for d in datasets + ["mean"]:
        cells = []
        for k in ks:
            if d == "mean":
                xs = [st.mean(a[(x, k)]) for x in datasets]
                ys = [st.mean(b[(x, k)]) for x in datasets if (x, k) in b]
                cells.append(f"**{st.mean(xs):.1f}** (ref {st.mean(ys):.1f})" if ys else f"**{st.mean(xs):.1f}**")
                continue
            xs, ys = a[(d, k)], b.get((d, k), [])
            sd = st.stdev(xs) if len(xs) > 1 else 0.0
            cell = f"{st.mean(xs):.1f} ± {sd:.1f}"
            if ys:
                worst = max(worst, abs(st.mean(xs) - st.mean(ys)))
                cell += f" (ref {st.mean(ys):.1f})"
            cells.append(cell)
        p(f"| {d} | " + " | ".join(cells) + " |")
    p("")
    p(f"Largest gap between our mean and the reference's, over all datasets and k: **{worst:.2f} F1**.")
    p("")


table("entity_micro_f1", "Entity micro F1 (seqeval strict)")
table("token_macro_f1", "Token macro F1")

p("## Sample sizes")
p("")
p("Sentences drawn (mean over seeds); a type with fewer than k mentions in the training file ends with what there is")
p("(CrossNER training files have 100–200 sentences).")
p("")
p("| dataset | " + " | ".join(f"k={k}" for k in ks) + " |")
p("|---|" + "---|" * len(ks))
sizes = defaultdict(list)
for r in ours["runs"]:
    sizes[(r["dataset"], r["k"])].append(r["sentences"])
for d in datasets:
    p(f"| {d} | " + " | ".join(f"{st.mean(sizes[(d, k)]):.0f}" for k in ks) + " |")
p("")
tm = ours["timing"]
p("## Wall time")
p("")
train16 = [r["train_seconds"] for r in ours["runs"] if r["dataset"] == "conll2003" and r["k"] == 16]
if train16:
    p(f"- Training a head, CoNLL-2003 k=16: **{st.mean(train16):.2f} s** (mean of {len(train16)}; features of the sample included"
      " separately below).")
if "conll2003_test_tag_seconds" in tm:
    n = tm["conll2003_test_sentences"]
    p(f"- Tagging the CoNLL-2003 test set ({n} sentences: encoder features, head, decoding): **{tm['conll2003_test_tag_seconds']:.1f} s**"
      f" ({n / tm['conll2003_test_tag_seconds']:.0f} sentences/s), CPU backend `flex`, {ours['threads']} threads.")
p("")


def pretraining(base_path, after_path, metrics_path, zs_path):
    """The "Pre-training" section (scripts/pretrain_results.sh), when its files exist."""
    import os
    if not all(os.path.exists(x) for x in (base_path, after_path, metrics_path)):
        return
    base, after = json.load(open(base_path)), json.load(open(after_path))
    steps = [json.loads(l) for l in open(metrics_path) if l.strip()]
    pks = sorted({r["k"] for r in base["runs"]})
    pds = [d for d in ORDER if any(r["dataset"] == d for r in base["runs"])]
    p("## Pre-training (NuNER's method, small budget)")
    p("")
    p("Reproduce with `./scripts/pretrain_results.sh`. `nuner pool` builds an open-type concept pool from")
    p("`../shared/data` (Few-NERD fine types named in plain words, CoNLL-2003 train, WikiGold, the GLiNER sample;")
    p("WNUT-17 and CrossNER are held out); `nuner pretrain --config docs/pretrain-minilm.toml` trains MiniLM's top")
    p("3 layers and a concept tower on it (two towers, token · concept logits, sigmoid BCE over the batch's concepts).")
    p(f"Then the few-shot protocol (linear head, seeds {', '.join(map(str, sorted({r['seed'] for r in base['runs']})))}) runs on the held-out")
    p("datasets with the base encoder and with the pre-trained one; figures in percent, mean ± std over seeds.")
    p("")
    if steps:
        tps = st.mean(m["tokens_per_s"] for m in steps)
        first = st.mean(m["loss"] for m in steps[:20])
        last = st.mean(m["loss"] for m in steps[-20:])
        p(f"- Run: {len(steps)} steps of 32 sentences, mean {tps:.0f} tokens/s (CPU backend `flex`, 2 cores shared with other jobs during the run); loss "
          f"{first:.4f} (mean of the first 20 steps) → {last:.4f} (last 20). Curve: `docs/results/pretrain-loss.svg`.")
        write_svg(steps, "docs/results/pretrain-loss.svg")
    p("")
    for metric, title in (("token_macro_f1", "Token macro F1 (the NuNER model cards' metric)"),
                          ("entity_micro_f1", "Entity micro F1")):
        a, b = group(base["runs"], metric), group(after["runs"], metric)
        p(f"### {title}: base → pre-trained")
        p("")
        p("| dataset | " + " | ".join(f"k={k}" for k in pks) + " |")
        p("|---|" + "---|" * len(pks))
        for d in pds + ["mean"]:
            cells = []
            for k in pks:
                if d == "mean":
                    x, y = st.mean(st.mean(a[(q, k)]) for q in pds), st.mean(st.mean(b[(q, k)]) for q in pds)
                    cells.append(f"**{x:.1f} → {y:.1f} ({y - x:+.1f})**")
                else:
                    x, y = a[(d, k)], b[(d, k)]
                    cells.append(f"{st.mean(x):.1f} ± {st.stdev(x) if len(x) > 1 else 0:.1f} → "
                                 f"{st.mean(y):.1f} ± {st.stdev(y) if len(y) > 1 else 0:.1f}")
            p(f"| {d} | " + " | ".join(cells) + " |")
        p("")
    if os.path.exists(zs_path):
        zs = [json.loads(l) for l in open(zs_path) if l.strip()]
        p("### Zero-shot from type names (kept concept tower, no labelled example)")
        p("")
        p("`nuner eval --model RUN --zero-shot --test FILE`: each label of the test file, in plain words, is a type name.")
        p("")
        p("| dataset | entity micro F1 | token macro F1 |")
        p("|---|---|---|")
        for r in zs:
            p(f"| {r['dataset']} | {100 * r['entity_micro_f1']:.1f} | {100 * r['token_macro_f1']:.1f} |")
        p("")


def unfreeze(path):
    """The "Fine-tuning the top layers" section (scripts/unfreeze_results.sh), when it has run."""
    import os
    if not os.path.exists(path):
        return
    rows = [json.loads(l) for l in open(path) if l.strip()]
    p("## Fine-tuning the top layers (`finetune --unfreeze 2`, beyond the paper)")
    p("")
    p("Reproduce with `./scripts/unfreeze_results.sh`. CoNLL-2003, the same k-shot samples, full test file (eng.testb):")
    p("the frozen linear probe against the probe then fine-tuned together with MiniLM's top 2 layers (300 steps of 16")
    p("sentences, AdamW, encoder lr 5e-5, head lr 1e-4, warm-up then linear decay; settings chosen on eng.testa with k=16,")
    p("seed 0). Percent, mean ± std over seeds; time is the whole `finetune --unfreeze` run on 2 CPU cores.")
    p("")
    p("| k | entity micro F1 frozen → tuned | token macro F1 frozen → tuned | fine-tuning time |")
    p("|---|---|---|---|")
    for k in sorted({r["k"] for r in rows}):
        rk = [r for r in rows if r["k"] == k]
        def cell(metric):
            a = [100 * r["frozen"][metric] for r in rk]
            b = [100 * r["unfreeze2"][metric] for r in rk]
            sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
            return f"{st.mean(a):.1f} ± {sd(a):.1f} → {st.mean(b):.1f} ± {sd(b):.1f} ({st.mean(b) - st.mean(a):+.1f})"
        secs = st.mean(r["unfreeze2_seconds"] for r in rk)
        p(f"| {k} | {cell('entity_micro_f1')} | {cell('token_macro_f1')} | {secs:.0f} s |")
    p("")


def write_svg(steps, path, w=640, h=240):
    xs = [m["step"] for m in steps]
    ys = [m["loss"] for m in steps]
    lo, hi = min(ys), max(ys)
    pts = " ".join(f"{40 + (w - 50) * (x - xs[0]) / max(xs[-1] - xs[0], 1):.1f},{h - 30 - (h - 50) * (y - lo) / max(hi - lo, 1e-9):.1f}"
                   for x, y in zip(xs, ys))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">'
           f'<rect width="{w}" height="{h}" fill="white"/><polyline fill="none" stroke="#2563eb" stroke-width="1" points="{pts}"/>'
           f'<text x="40" y="14">pre-training loss (BCE) per step</text>'
           f'<text x="2" y="24">{hi:.3f}</text><text x="2" y="{h - 30}">{lo:.3f}</text>'
           f'<text x="40" y="{h - 12}">step {xs[0]}</text><text x="{w - 70}" y="{h - 12}">step {xs[-1]}</text></svg>\n')
    open(path, "w").write(svg)


pretraining("docs/results/pretrain-fewshot-base.json", "docs/results/pretrain-fewshot-pretrained.json",
            "docs/results/pretrain-metrics.jsonl", "docs/results/pretrain-zeroshot.jsonl")
unfreeze("docs/results/unfreeze.jsonl")
print("\n".join(out))
