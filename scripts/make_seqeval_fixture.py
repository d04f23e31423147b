#!/usr/bin/env python3
"""Writes model/tests/fixtures/seqeval/cases.json: tag sequences and what the real seqeval and
scikit-learn compute for them, for model/tests/metrics.rs (which must match to 1e-9).

For each case:
  strict   seqeval classification_report(gold, pred, mode='strict', scheme=IOB2, output_dict=True),
           or null with strict_error when seqeval raises (tags that are not IOB2);
  default  the same in seqeval's default (conlleval-compatible) mode;
  token    token-level scores: each tag's class is the tag without B-/I- (O stays O, other
           strings are their own class); types = classes other than O in gold or pred;
           sklearn precision_recall_fscore_support / f1_score(labels=types, zero_division=0),
           per type, macro and micro (null with token_error where sklearn raises: no token at
           all). Every NaN (an average over no type) is written as null.

Not run in CI. Set-up (no torch needed):
  python3 -m venv ~/.cache/nuner-seqeval-venv
  ~/.cache/nuner-seqeval-venv/bin/pip install seqeval scikit-learn
  ~/.cache/nuner-seqeval-venv/bin/python scripts/make_seqeval_fixture.py
"""

import json
import math
import random
import warnings
from importlib.metadata import version
from pathlib import Path

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2
from sklearn.metrics import precision_recall_fscore_support

OUT = Path(__file__).resolve().parent.parent / "model/tests/fixtures/seqeval/cases.json"


def s(text):
    """'B-X I-X O | O B-Y' -> [['B-X', 'I-X', 'O'], ['O', 'B-Y']]; '' -> [[]]."""
    return [part.split() for part in text.split("|")]


FIXED = [
    ("perfect", s("B-PER I-PER O B-LOC"), s("B-PER I-PER O B-LOC")),
    ("seqeval docstring", s("O O O B-MISC I-MISC I-MISC O | B-PER I-PER O"),
     s("O O B-MISC I-MISC I-MISC I-MISC O | B-PER I-PER O")),
    ("I- after O in pred", s("O B-PER I-PER O"), s("O I-PER I-PER O")),
    ("I- after O in gold", s("O I-PER I-PER O"), s("O B-PER I-PER O")),
    ("I- after O on both sides", s("O I-PER I-PER O"), s("O I-PER I-PER O")),
    ("I-X after B-Y", s("B-PER I-PER I-PER"), s("B-PER I-LOC I-LOC")),
    ("I-X after I-Y", s("B-ORG I-ORG B-LOC"), s("B-ORG I-ORG I-LOC")),
    ("starts with I-", s("I-LOC O B-PER"), s("I-LOC O B-PER")),
    ("starts with I- then B-", s("I-LOC B-LOC I-LOC"), s("B-LOC B-LOC I-LOC")),
    ("single-token entities", s("B-A O B-B O B-A B-A"), s("B-A O B-B O B-A O")),
    ("empty predictions", s("B-PER I-PER O B-LOC | O B-ORG"), s("O O O O | O O")),
    ("types only in pred", s("O O O | B-PER O"), s("B-MISC O O | B-PER O")),
    ("types only in gold", s("B-MISC O O | B-PER O"), s("O O O | B-PER O")),
    ("all O", s("O O O | O"), s("O O O | O")),
    ("pred only, gold all O", s("O O O"), s("B-X I-X O")),
    ("adjacent same type", s("B-X B-X B-X"), s("B-X I-X B-X")),
    ("boundary too long", s("B-PER O O"), s("B-PER I-PER O")),
    ("boundary too short", s("B-PER I-PER I-PER"), s("B-PER I-PER O")),
    ("type mismatch", s("B-PER I-PER"), s("B-ORG I-ORG")),
    ("entity at sentence end, I- at next start", s("O B-X | I-X O"), s("O B-X | I-X O")),
    ("I- continuing across sentences", s("O I-X | I-X O"), s("O B-X | B-X O")),
    ("empty sentences", s("B-X | | O B-Y"), s("B-X | | O O")),
    ("whole-sentence entity", s("B-E I-E I-E I-E"), s("B-E I-E I-E I-E")),
    ("odd type names", s("B-PER-X I-PER-X O B-a-b O B-musical_instrument"),
     s("B-PER-X I-PER-X O B-a-b O B-musical_instrument")),
    ("unicode types", s("B-人物 I-人物 O B-lieu"), s("B-人物 O O B-lieu")),
    ("tags without type", s("B I O B"), s("B I O I")),
    ("trailing dash in I- (strict strips it)", s("B-PER I-PER- O"), s("B-PER I-PER O")),
    ("double dash", s("B--PER I--PER O"), s("B-PER I-PER O")),
    ("five types", s("B-A I-A O B-B B-C I-C | B-D O B-E I-E I-E"),
     s("B-A O O B-B B-C I-C | B-D O B-E I-E O")),
    ("O-X tag", s("B-X O-X I-X"), s("B-X O I-X")),
    ("one empty sentence", [[]], [[]]),
    ("long mixed", s("O B-PER I-PER I-PER O O B-LOC O B-ORG I-ORG O I-MISC I-MISC O B-PER"),
     s("O B-PER I-PER O O O B-LOC O B-ORG I-ORG I-ORG B-MISC I-MISC O I-PER")),
    ("pred I- run of other type", s("B-A I-A I-A I-A"), s("B-A I-A I-B I-B")),
    ("numbers in types", s("B-1 I-1 B-2"), s("B-1 I-1 B-2")),
    # Not IOB2: seqeval's strict mode raises; only default mode and token scores apply.
    ("IOBES tags (strict raises)", s("S-PER O B-LOC E-LOC"), s("S-PER O B-LOC I-LOC")),
    ("unknown prefix (strict raises)", s("X-LOC O B-PER"), s("B-LOC O B-PER")),
    ("dot prefix (strict raises)", s("B-X .-X O I-Y"), s("B-X I-X O I-Y")),
    ("lowercase prefix (strict raises)", s("b-PER i-PER"), s("B-PER I-PER")),
    ("underscore tag (strict reads type _PER)", s("B_PER O"), s("O O")),
]


def random_cases(rng, n):
    types = ["PER", "LOC", "ORG", "MISC", "a/b", "x y"]
    cases = []
    for k in range(n):
        ntypes = rng.randint(1, len(types))
        ts = types[:ntypes]
        gold, pred = [], []
        for _ in range(rng.randint(1, 8)):
            length = rng.randint(0, 14)
            g = []
            for _ in range(length):
                r = rng.random()
                if r < 0.5:
                    g.append("O")
                elif r < 0.75:
                    g.append("B-" + rng.choice(ts))
                else:
                    g.append("I-" + rng.choice(ts))
            p = []
            for tag in g:
                r = rng.random()
                if r < 0.6:
                    p.append(tag)
                elif r < 0.75:
                    p.append("O")
                elif r < 0.9:
                    p.append(rng.choice("BI") + "-" + rng.choice(ts))
                else:
                    p.append(tag[:2] + rng.choice(ts) if tag != "O" else "I-" + rng.choice(ts))
            gold.append(g)
            pred.append(p)
        cases.append((f"random {k}", gold, pred))
    return cases


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def clean_report(rep):
    out = {}
    for key, row in rep.items():
        out[key] = {
            "precision": num(row["precision"]),
            "recall": num(row["recall"]),
            "f1": num(row["f1-score"]),
            "support": int(row["support"]),
        }
    return out


def token_class(tag):
    return tag[2:] if tag.startswith("B-") or tag.startswith("I-") else tag


def token_scores(gold, pred):
    g = [token_class(t) for sent in gold for t in sent]
    p = [token_class(t) for sent in pred for t in sent]
    types = sorted({c for c in g + p if c != "O"})
    prec, rec, f1, sup = precision_recall_fscore_support(g, p, labels=types, average=None, zero_division=0)
    per = {
        t: {"precision": float(a), "recall": float(b), "f1": float(c), "support": int(d)}
        for t, a, b, c, d in zip(types, prec, rec, f1, sup)
    }
    out = {"per_type": per}
    for avg in ("macro", "micro"):
        a, b, c, _ = precision_recall_fscore_support(g, p, labels=types, average=avg, zero_division=0)
        out[avg] = {"precision": num(a), "recall": num(b), "f1": num(c)}
    return out


def main():
    warnings.simplefilter("ignore")
    rng = random.Random(20240917)
    cases = FIXED + random_cases(rng, 30)
    out = []
    for name, gold, pred in cases:
        case = {"name": name, "gold": gold, "pred": pred}
        try:
            case["strict"] = clean_report(classification_report(gold, pred, mode="strict", scheme=IOB2, output_dict=True))
            case["strict_error"] = None
        except Exception as e:  # seqeval raises on tags that are not IOB2
            case["strict"] = None
            case["strict_error"] = f"{type(e).__name__}: {e}"
        case["default"] = clean_report(classification_report(gold, pred, output_dict=True))
        try:
            case["token"] = token_scores(gold, pred)
            case["token_error"] = None
        except Exception as e:  # sklearn raises on zero tokens
            case["token"] = None
            case["token_error"] = f"{type(e).__name__}: {e}"
        out.append(case)
    doc = {
        "made_by": "scripts/make_seqeval_fixture.py",
        "versions": {p: version(p) for p in ("seqeval", "scikit-learn", "numpy")},
        "null_means": "NaN (an average over no type)",
        "cases": out,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main()
