#!/usr/bin/env bash
# Runs every fuzz target for longer than `cargo test` does (docs/protocol.md, "Fuzzing"):
# the `fuzz_*` tests of pseud, cara, cara-schema and cara-codegen, built optimized
# but with debug assertions and overflow checks (profile `fuzz`, target/fuzz), with
# a random FUZZ_SEED unless one is given. Prints each target's inputs per second and
# the seed; exits non-zero on a finding (the failing test prints the input and where
# it is saved, under target/fuzz-findings/<target>/).
#
#   build-support/fuzz.sh                        # 30 s per target, random seed
#   FUZZ_SECS=300 build-support/fuzz.sh          # longer
#   FUZZ_ITERS=2000000 build-support/fuzz.sh     # a number of inputs per target instead
#   FUZZ_SEED=0x1234 build-support/fuzz.sh frames  # one target (a test name filter), a given seed
#
# Other fuzzkit variables (FUZZ_SLOW_MS, FUZZ_REPLAY, FUZZ_LAST_INPUT) pass through.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

seed=${FUZZ_SEED:-$(printf '0x%016x' "$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')")}
export FUZZ_SEED=$seed
if [ -z "${FUZZ_ITERS:-}" ]; then
    export FUZZ_SECS=${FUZZ_SECS:-30}
fi
filter=fuzz_${1:-}
target_dir=${CARGO_TARGET_DIR:-$root/target}
log=$target_dir/fuzz-findings/fuzz-$seed.log
mkdir -p "$(dirname "$log")"

# Optimized (a hundred times the inputs of a debug build), but overflow and debug
# assertions stay on: they are findings too.
profile=(--profile fuzz
    --config 'profile.fuzz.inherits="release"'
    --config 'profile.fuzz.debug-assertions=true'
    --config 'profile.fuzz.overflow-checks=true')

# Where the targets are: package and test target.
suites=(
    "pseud --lib"
    "cara-schema --lib"
    "cara --test fuzz_values"
    "cara-codegen --test fuzz_codegen"
)

echo "== fuzz: FUZZ_SEED=$seed ${FUZZ_ITERS:+FUZZ_ITERS=$FUZZ_ITERS }${FUZZ_SECS:+FUZZ_SECS=$FUZZ_SECS }(per target; log $log)"
: >"$log"
failed=0
for suite in "${suites[@]}"; do
    read -r package kind name <<<"$suite"
    # $kind $name: one word or two, split on purpose. grep finds nothing: no matter.
    set +e
    # shellcheck disable=SC2086
    cargo test "${profile[@]}" -p "$package" $kind ${name:-} -- "$filter" --nocapture 2>&1 | tee -a "$log" \
        | grep -E '^(fuzz [a-z_]+: [0-9]+ mutated|fuzz target|from |input |saved to|replay:)|overflowed|SIGABRT|SIGSEGV|SIGKILL|memory allocation|^error'
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ]; then
        failed=1
        echo "!! $package: a finding, or the build failed (see $log)"
    fi
done

echo "== summary (FUZZ_SEED=$seed)"
grep -E '^fuzz [a-z_]+: [0-9]+ mutated' "$log" | sed -E 's/^fuzz ([a-z_]+): ([0-9]+) mutated inputs \+ ([0-9]+) corpus files in ([0-9.]+) s \(([0-9]+)\/s\).*/  \1: \2 inputs in \4 s, \5\/s/' || true
if ! grep -qE '^fuzz [a-z_]+: starting' "$log"; then
    echo "!! no fuzz target matched '$filter'"
    exit 2
fi
if [ "$failed" -ne 0 ]; then
    cat <<EOF
== FINDING(S): see above and $log.
A panic or slow input is saved under $target_dir/fuzz-findings/<target>/ and replays
with the "replay:" command printed with it (a debug build).
An abort (stack overflow, failed allocation) leaves no file: rerun the target with
  FUZZ_SEED=$seed FUZZ_LAST_INPUT=/tmp/last-input build-support/fuzz.sh <target>
and /tmp/last-input holds the input that aborted.
EOF
    exit 1
fi
echo "== no findings"
