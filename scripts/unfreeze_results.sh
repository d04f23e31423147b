#!/usr/bin/env bash
# The "Fine-tuning the top layers" section of docs/RESULTS.md: CoNLL-2003, k = 16 and 64, seeds
# 0-2, the frozen linear probe against `nuner finetune --unfreeze 2` (default settings) on the
# same samples, scored on the full test file (eng.testb). About 11 minutes on 2 CPU cores (10.5 measured).
set -euo pipefail
source "$(dirname "$0")/results_env.sh"
TRAIN=$DATA/conll2003/eng.train
TEST=$DATA/conll2003/eng.testb
WORK=.cache/runs/unfreeze
OUT=docs/results/unfreeze.jsonl
mkdir -p "$WORK" && : > "$OUT.partial"
score() { python3 -c 'import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(json.dumps({"entity_micro_f1": r["entity_micro_f1"], "token_macro_f1": r["token_macro_f1"]}))'; }
for k in 16 64; do
  for seed in 0 1 2; do
    "$NUNER" finetune --model "$MODEL" --train "$TRAIN" --k $k --seed $seed --out "$WORK/frozen.json" 2>/dev/null
    frozen=$("$NUNER" eval --model "$MODEL" --head "$WORK/frozen.json" --test "$TEST" 2>/dev/null | score)
    rm -rf "$WORK/tuned"
    t0=$(date +%s.%N)
    "$NUNER" finetune --model "$MODEL" --train "$TRAIN" --k $k --seed $seed --unfreeze 2 --out-model "$WORK/tuned" --out "$WORK/tuned.json" 2>/dev/null
    secs=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
    tuned=$("$NUNER" eval --model "$WORK/tuned" --head "$WORK/tuned.json" --test "$TEST" 2>/dev/null | score)
    echo "{\"k\": $k, \"seed\": $seed, \"frozen\": $frozen, \"unfreeze2\": $tuned, \"unfreeze2_seconds\": $secs}" | tee -a "$OUT.partial"
  done
done
mv "$OUT.partial" "$OUT"
python3 scripts/results_table.py docs/results/fewshot-minilm.json docs/results/fewshot-minilm-reference.json > docs/RESULTS.md
echo "wrote docs/RESULTS.md" >&2
