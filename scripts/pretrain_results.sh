#!/usr/bin/env bash
# Reproduces the "Pre-training" section of docs/RESULTS.md: builds the open-type concept pool
# from ../shared/data (WNUT-17 and CrossNER held out), pre-trains all-MiniLM-L6-v2 on it
# (docs/pretrain-minilm.toml; resumable: rerun after an interruption), then runs the few-shot
# protocol (k = 1, 4, 16; seeds 0, 1, 2; linear head) on the held-out datasets with the base
# and the pre-trained encoder, and scores zero-shot tagging from type names.
# Needs ../shared/data and the set-up (scripts/setup.sh).
set -euo pipefail
source "$(dirname "$0")/results_env.sh"
BASE=$MODEL
RUN=.cache/runs/pretrain-minilm
HELD_OUT=wnut17,crossner_ai,crossner_literature,crossner_music,crossner_politics,crossner_science
OUT=docs/results

"$NUNER" pool --data "$DATA" --out .cache/pool.jsonl
"$NUNER" pretrain --config docs/pretrain-minilm.toml
cp "$RUN/metrics.jsonl" "$OUT/pretrain-metrics.jsonl"
for which in base:$BASE pretrained:$RUN; do
  name=${which%%:*} model=${which#*:}
  [ -f "$OUT/pretrain-fewshot-$name.json" ] && [ "${FORCE:-0}" = 0 ] && continue
  "$NUNER" experiment --model "$model" --data-dir "$DATA" --datasets "$HELD_OUT" --k 1,4,16 \
    --out "$OUT/pretrain-fewshot-$name.json"
done
# Zero-shot: the concept tower scores each test word against the plain-language label names.
: > "$OUT/pretrain-zeroshot.jsonl"
declare -A TEST=([wnut17]=wnut17/emerging.test.annotated [crossner_ai]=crossner/ai/test.txt
  [crossner_literature]=crossner/literature/test.txt [crossner_music]=crossner/music/test.txt
  [crossner_politics]=crossner/politics/test.txt [crossner_science]=crossner/science/test.txt)
for d in wnut17 crossner_ai crossner_literature crossner_music crossner_politics crossner_science; do
  test=$DATA/${TEST[$d]}
  "$NUNER" eval --model "$RUN" --zero-shot --test "$test" | tail -1 \
    | python3 -c "import json,sys; r=json.load(sys.stdin); r['dataset']='$d'; print(json.dumps(r))" >> "$OUT/pretrain-zeroshot.jsonl"
done
python3 scripts/results_table.py docs/results/fewshot-minilm.json docs/results/fewshot-minilm-reference.json > docs/RESULTS.md
echo "wrote docs/RESULTS.md" >&2
