#!/usr/bin/env bash
# Reproduces docs/RESULTS.md: the paper's few-shot protocol with MiniLM features on CoNLL-2003,
# WNUT-17 and the five CrossNER domains (k = 1, 4, 16, 64; seeds 0, 1, 2; linear head), next to
# a reference linear probe (scikit-learn logistic regression + seqeval) on the same features and
# samples. About 20 minutes on 2 cores. Needs ../shared/data and the set-up (scripts/setup.sh).
set -euo pipefail
source "$(dirname "$0")/results_env.sh"
EXPORT=.cache/export/minilm
rm -rf "$EXPORT"
"$NUNER" experiment --model "$MODEL" --data-dir "$DATA" --out docs/results/fewshot-minilm.json --export "$EXPORT"

VENV=$HOME/.cache/nuner-reference-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet numpy safetensors scikit-learn==1.9.1 seqeval==1.2.2
"$VENV/bin/python" scripts/reference_probe.py "$EXPORT" docs/results/fewshot-minilm-reference.json
python3 scripts/results_table.py docs/results/fewshot-minilm.json docs/results/fewshot-minilm-reference.json > docs/RESULTS.md
echo "wrote docs/RESULTS.md" >&2
