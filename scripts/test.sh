#!/usr/bin/env bash
# Runs every test: native unit + integration tests (PyTorch parity on the CPU backend and on
# burn-wgpu over Mesa's lavapipe), then the browser app in headless Chromium (WebGPU and CPU).
# Sets up what it needs first (scripts/setup.sh, plus the test-only system packages).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
step() { printf '\033[1m== %s %s\033[0m\n' "$(date +%T)" "$*" >&2; }

# The native test build's crate features; the set-up builds its converter with the same ones.
FEATURES=(--workspace --features nuner/wgpu)
NUNER_SETUP_BUILD_ARGS="${FEATURES[*]}" ./scripts/setup.sh

# Test-only system packages: a software Vulkan driver for wgpu, Chromium for the browser tests.
need=()
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || need+=(mesa-vulkan-drivers)
command -v chromium >/dev/null || need+=(chromium)
# Fonts so screenshots show CJK and emoji.
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk fonts-noto-color-emoji)
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

# The multi-threaded browser worker compiles in the background from here on, at the lowest
# priority: it takes the core that the native tests and Trunk's build leave idle. Trunk's
# post_build hook then finds it compiled and only runs wasm-bindgen.
TRUNK_PROFILE=release nice -n 19 ./scripts/build_threads.sh --compile-only &
threads=$!

step "native tests (CPU + wgpu on lavapipe)"
cargo test --release "${FEATURES[@]}"

step "browser build"
trunk build --release
wait "$threads"

step "browser tests (headless Chromium: WebGPU and CPU fallback)"
node tests/e2e/run.mjs
step "all tests passed"
