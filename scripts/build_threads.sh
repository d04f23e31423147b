#!/usr/bin/env bash
# Builds the multi-threaded CPU worker (see app/Cargo.toml and app/src/launch.rs) into
# $TRUNK_STAGING_DIR/threads/. Trunk runs it after each build (Trunk.toml's post_build hook).
#
# WebAssembly threads need the standard library rebuilt with atomics, which only a nightly
# toolchain does (-Z build-std); the nightly is pinned and installed by scripts/setup.sh. The
# build has its own target directory: its worker.wasm must not replace the default build's.
#
# `--compile-only` (with TRUNK_PROFILE set) only compiles, before Trunk runs: scripts/test.sh
# starts it in the background at nice 19, so that it fills the cores the native tests and Trunk's
# build leave idle; the hook's cargo then waits for it and finds everything fresh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/nightly.env
COMPILE_ONLY=$([ "${1:-}" = --compile-only ] && echo 1 || echo)
[ -n "$COMPILE_ONLY" ] || OUT=${TRUNK_STAGING_DIR:?run by trunk (Trunk.toml post_build hook)}/threads
if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
  || ! rustup component list --toolchain "$NIGHTLY" --installed | grep -q rust-src \
  || ! rustup target list --toolchain "$NIGHTLY" --installed | grep -q wasm32-unknown-unknown; then
  echo "build_threads: $NIGHTLY with rust-src and wasm32 is not installed (scripts/setup.sh installs it); the page will run the CPU backend on one thread" >&2
  exit 0
fi
PROFILE=$([ "${TRUNK_PROFILE:-debug}" = release ] && echo wasm-threads || echo dev)
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}/threads
# One memory, imported and shared by every thread (this nightly's rustc no longer asks wasm-ld for
# it by itself), up to 4 GiB, and the TLS symbols wasm-bindgen's thread start-up calls.
LINK="--shared-memory --import-memory --max-memory=4294967296 --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base"
# Relaxed SIMD (`f32x4.relaxed_madd`, fused where the CPU can) for the crates whose GEMM and
# vector kernels use it; not for every crate, since macerator (Flex's SIMD) does not build with it.
# A browser without relaxed SIMD cannot compile this module: the page checks for it first
# (app/src/launch.rs) and starts the one-thread build instead.
RELAXED=()
for p in rten-simd rten-gemm rten-vecmath nuner; do
  RELAXED+=(--config "profile.$PROFILE.package.$p.rustflags=['-C', 'target-feature=+relaxed-simd']")
done
RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 $(printf -- ' -C link-arg=%s' $LINK)" \
  rustup run "$NIGHTLY" cargo build --quiet --target wasm32-unknown-unknown -Z build-std=panic_abort,std \
  -Z profile-rustflags "${RELAXED[@]}" \
  --target-dir "$TARGET_DIR" --profile "$PROFILE" -p nuner-app --bin worker --no-default-features --features threads
[ -z "$COMPILE_ONLY" ] || exit 0
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
wasm-bindgen --target web --out-dir "$OUT" --out-name worker --no-typescript \
  "$TARGET_DIR/wasm32-unknown-unknown/$DIR/worker.wasm"
echo "build_threads: multi-threaded CPU worker in $OUT" >&2
