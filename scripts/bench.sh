#!/usr/bin/env bash
# Measures the figures of docs/BENCHMARKS.md in one run on this machine: the encoder forward
# (MiniLM, batch 32 x 128) on each native backend next to PyTorch eager on the same model and
# shapes (when the fixtures venv with torch exists, see scripts/make_fixtures.py), then the
# browser figures in headless Chromium. Writes docs/benchmarks/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
MODEL=.cache/models/all-MiniLM-L6-v2
OUT=docs/benchmarks
mkdir -p "$OUT"
# The ndarray backend with OpenBLAS, the alternative CPU backend that builds here, is measured
# too when the system library is installed (`apt install libopenblas-dev`).
FEATURES=wgpu DEVICES=flex,wgpu
if ldconfig -p | grep -q 'libopenblas\.so '; then
  FEATURES=wgpu,openblas DEVICES=flex,ndarray,wgpu
fi
cargo build --release --features "$FEATURES" --quiet
NUNER="${CARGO_TARGET_DIR:-target}/release/nuner"
{
  "$NUNER" bench --model "$MODEL" --devices "$DEVICES" --iters "${ITERS:-10}"
  TORCH_PY=$HOME/.cache/nuner-fixtures-venv/bin/python
  if [ -x "$TORCH_PY" ] && "$TORCH_PY" -c 'import torch' 2>/dev/null; then
    "$TORCH_PY" scripts/bench_torch.py --model "$MODEL"
    "$TORCH_PY" scripts/bench_torch.py --model "$MODEL" --sgemm
  else
    echo '{"backend": "pytorch-eager", "skipped": "no torch venv (scripts/make_fixtures.py makes one)"}'
  fi
} | tee "$OUT/native.jsonl"
if [ -d dist ]; then
  node tests/e2e/bench.mjs > "$OUT/browser.json"
fi
