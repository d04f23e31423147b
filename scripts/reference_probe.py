#!/usr/bin/env python3
"""Reference linear probe for docs/RESULTS.md: scikit-learn logistic regression on exactly the
features and few-shot samples that `nuner experiment --export DIR` wrote, scored with the real
seqeval package (strict IOB2, entity micro F1) and token macro F1 (entity types with B-/I-
stripped, O excluded, macro over the types in gold or prediction).

Needs numpy, safetensors, scikit-learn and seqeval (no torch); scripts/results.sh makes a venv.
Usage: reference_probe.py EXPORT_DIR OUT.json [--l2 1.0]
"""
import argparse, json, os, re, sys, time

import numpy as np
from safetensors.numpy import load_file
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score as sk_f1


def token_macro_f1(gold, pred):
    strip = lambda t: "O" if t == "O" else t[2:]
    g = [strip(t) for s in gold for t in s]
    p = [strip(t) for s in pred for t in s]
    types = sorted(set(g + p) - {"O"})
    if not types:
        return 0.0
    return float(sk_f1(g, p, labels=types, average="macro", zero_division=0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("export")
    ap.add_argument("out")
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args()
    runs = []
    for name in sorted(os.listdir(args.export)):
        d = os.path.join(args.export, name)
        meta = json.load(open(os.path.join(d, "test.json")))
        tags, gold = meta["tags"], meta["gold"]
        test = load_file(os.path.join(d, "test.safetensors"))
        x_test, counts = test["x"], test["counts"].astype(np.int64)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for f in sorted(os.listdir(d)):
            m = re.match(r"train_k(\d+)_s(\d+)\.safetensors$", f)
            if not m:
                continue
            k, seed = int(m.group(1)), int(m.group(2))
            t = load_file(os.path.join(d, f))
            x, y = t["x"], t["y"].astype(np.int64)
            start = time.time()
            if len(set(y.tolist())) == 1:
                pred_ids = np.full(len(x_test), y[0])
            else:
                clf = LogisticRegression(C=1.0 / args.l2, max_iter=5000, tol=1e-6)
                clf.fit(x, y)
                pred_ids = clf.predict(x_test)
            pred = [[tags[i] for i in pred_ids[bounds[j]:bounds[j + 1]]] for j in range(len(counts))]
            runs.append({
                "dataset": name, "k": k, "seed": seed,
                "entity_micro_f1": float(f1_score(gold, pred, mode="strict", scheme=IOB2, average="micro", zero_division=0)),
                "token_macro_f1": token_macro_f1(gold, pred),
                "train_seconds": time.time() - start,
            })
            print(f"{name} k={k} seed={seed}: entity F1 {runs[-1]['entity_micro_f1']:.4f}", file=sys.stderr)
    json.dump({"reference": "scikit-learn LogisticRegression(C=1/l2, lbfgs) + seqeval strict IOB2", "l2": args.l2, "runs": runs},
              open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
