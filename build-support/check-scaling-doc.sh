#!/usr/bin/env bash
# Runs docs/scaling.md's "Try it" commands verbatim: two tier-replica processes and
# `cara broker` in the background, then a `cara call` through the broker, whose
# output must be what the page says. Stops the background processes afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
block=$(awk '/^## Try it/ {found=1} found && /^```sh$/ {inside=1; next} inside && /^```$/ {exit} inside {print}' docs/scaling.md)
if [ -z "$block" ]; then
    echo "check-scaling-doc: no sh block under '## Try it' in docs/scaling.md" >&2
    exit 1
fi
echo "$block"
want=$(printf '%s\n' "$block" | sed -n 's/.*# prints //p' | tail -n 1)
# r1 unless it was not listening yet when the broker paired the call (the page says so).
pattern=$(printf '%s' "$want" | sed 's/"r1"/"r[12]"/; s/[{}]/\\&/g')
log=target/check-scaling-doc.log
status=0
# In a process group of its own, so that its background processes all stop with
# it; to a file, not a pipe: they keep their stdout open.
setsid bash -c "set -e; $block" > "$log" 2>&1 &
group=$!
wait "$group" || status=$?
kill -TERM -- "-$group" 2>/dev/null || true
cat "$log"
if [ "$status" -ne 0 ]; then
    echo "check-scaling-doc: the commands failed (exit $status)" >&2
    exit 1
fi
if grep -qxE "$pattern" "$log"; then
    echo "check-scaling-doc: ok (the call through the broker printed $(grep -xE "$pattern" "$log"))"
else
    echo "check-scaling-doc: expected a line $want (or r2)" >&2
    exit 1
fi
