#!/usr/bin/env bash
# Sets the machine up (scripts/setup.sh) and serves the app on http://127.0.0.1:8080 with the
# default model (all-MiniLM-L6-v2, converted into public/model by the set-up).
# The first build compiles Burn for wasm twice, the default worker and the multi-threaded one
# (about 15 minutes on 2 cores); later starts are quick.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
# Trunk 0.21 refuses to start when a path in Trunk.toml's [watch] ignore list is missing (target/
# is absent when CARGO_TARGET_DIR points elsewhere, dist/ before the first build).
mkdir -p target dist
exec trunk serve --release "$@"
