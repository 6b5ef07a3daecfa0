#!/usr/bin/env bash
# The whole rivals comparison, repeated: 10 runs by default, then min / median / max
# over the runs of each run's median ratios (pseud ÷ X). Arguments go to the runner
# and override the default: `run.sh --runs 3`, `run.sh --quick`, `run.sh --rounds 7`.
# Set CARGO_TARGET_DIR / CARGO_BUILD_JOBS as for any cargo build.
set -euo pipefail
cd "$(dirname "$0")"
exec cargo run --release --quiet --bin rivals -- --runs 10 "$@"
