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
print("\n".join(out))
