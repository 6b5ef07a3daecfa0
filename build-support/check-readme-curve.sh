#!/usr/bin/env bash
# Runs the README's CURVE commands verbatim (the sh block after "The same, encrypted
# with CURVE"): keygen, a CURVE server in the background, a CURVE call that must
# print 7. Stops the server afterwards. Run from anywhere; needs only cargo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
block=$(awk '/^The same, encrypted with CURVE/ {found=1} found && /^```sh$/ {inside=1; next} inside && /^```$/ {exit} inside {print}' README.md)
if [ -z "$block" ]; then
    echo "check-readme-curve: no CURVE sh block found in README.md" >&2
    exit 1
fi
echo "$block"
rm -f target/server.key target/server.key_secret   # keygen never overwrites
cargo build -q --bin cara --bin pseud-demo
# To a file, not a pipe: the background server keeps its stdout open.
log=target/check-readme-curve.log
status=0
bash -c "set -e; $block" > "$log" 2>&1 || status=$?
pkill -f "pseud-demo serve --endpoint tcp://127.0.0.1:5556" || true
cat "$log"
out=$(grep -v '^{"event"' "$log" | tail -n 1)
if [ "$status" -ne 0 ]; then
    echo "check-readme-curve: the commands failed (exit $status)" >&2
    exit 1
fi
case "$out" in
    7*) echo "check-readme-curve: ok (the CURVE call printed 7)" ;;
    *) echo "check-readme-curve: expected 7, got: $out" >&2; exit 1 ;;
esac
