#!/usr/bin/env bash
# Runs every test of the workspace, interop tests included, on a machine that has
# only Rust, Python 3 with pip, and a C/C++ compiler. It installs what the tests need:
#   - a venv with the real Python pseud 1.0.1 (build-support/interop), exported as CARA_PYTHON;
#   - Debian's capnproto (the official `capnp`, for the schema front-end's cross-checks).
# Extra arguments go to `cargo test` (for example a test name filter).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

echo "== Python interop peers (pseud 1.0.1)"
CARA_PYTHON=$(build-support/interop/setup-venv.sh "$root/target/interop-venv" | tail -n 1)
export CARA_PYTHON
echo "CARA_PYTHON=$CARA_PYTHON"

echo "== Official capnp compiler (cross-check tests only)"
if ! command -v capnp >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq capnproto >/dev/null \
            || echo "warning: could not install Debian's capnproto; the cross-check tests will fail and say so" >&2
    else
        echo "warning: capnp is not installed and this script cannot apt-get it (not root);" \
             "the cross-check tests will fail: install Debian's capnproto" >&2
    fi
fi
command -v capnp >/dev/null 2>&1 && capnp --version

echo "== cargo test"
cargo test --workspace --no-fail-fast "$@"
