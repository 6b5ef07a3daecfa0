#!/usr/bin/env bash
# Runs every test of the workspace, interop tests included, on a machine that has
# only Rust, Python 3 with pip, and a C/C++ compiler. It installs what the tests need:
#   - a venv with the real Python pseud 1.0.1 (build-support/interop), exported as CARA_PYTHON;
#   - Debian's capnproto and libcapnp-dev (the official `capnp` and its schemas under
#     /usr/include/capnp, for the schema front-end's cross-checks and generator tests).
# Extra arguments go to `cargo test` (for example a test name filter).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

echo "== Python interop peers (pseud 1.0.1)"
CARA_PYTHON=$(build-support/interop/setup-venv.sh "$root/target/interop-venv" | tail -n 1)
export CARA_PYTHON
echo "CARA_PYTHON=$CARA_PYTHON"

echo "== Official capnp compiler (cross-check tests only)"
if ! command -v capnp >/dev/null 2>&1 || [ ! -f /usr/include/capnp/schema.capnp ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq capnproto libcapnp-dev >/dev/null \
            || echo "warning: could not install Debian's capnproto/libcapnp-dev; the cross-check tests will fail and say so" >&2
    else
        echo "warning: capnp or /usr/include/capnp is missing and this script cannot apt-get them (not root);" \
             "the cross-check tests will fail: install Debian's capnproto and libcapnp-dev" >&2
    fi
fi
command -v capnp >/dev/null 2>&1 && capnp --version

echo "== cargo test"
cargo test --workspace --no-fail-fast "$@"
