# Sourced by the results scripts: the repository root, the datasets, the set-up, a release build,
# the binary ($NUNER) and the default encoder ($MODEL).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=${NUNER_SHARED_DIR:-../shared}/data
[ -d "$DATA" ] || { echo "no datasets at $DATA" >&2; exit 1; }
./scripts/setup.sh
cargo build --release --quiet
NUNER="${CARGO_TARGET_DIR:-target}/release/nuner"
MODEL=.cache/models/all-MiniLM-L6-v2
