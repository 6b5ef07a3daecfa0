#!/usr/bin/env bash
# The long variants of the hardening checks (not run in CI): hardening-bench's
# slow-consumer and amplification scenarios ROUNDS times, then SOAK_SECONDS of
# idle clients, connect/call/close churn and windowed calls against one
# `pseud-demo serve`, printing rates and server memory every 10 s.
#
#   build-support/soak.sh                       # 3 rounds, a 2-minute soak
#   ROUNDS=5 SOAK_SECONDS=600 build-support/soak.sh
#
# Every part stops by itself; the exit status is non-zero only if a part could
# not run (the figures are measurements: read the RESULT lines).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
SOAK_SECONDS="${SOAK_SECONDS:-120}"

cargo build --release -p cara-examples --bin pseud-demo
cargo build --release -p cara-bench --bin hardening-bench
bench=target/release/hardening-bench

for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round of $ROUNDS"
    "$bench" | grep '^RESULT'
done
"$bench" --only soak --seconds "$SOAK_SECONDS"
