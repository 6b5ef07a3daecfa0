#!/usr/bin/env bash
# Interop tests against the original Python cara 0.10.3 on pseud git cadb5d6 (the seed's
# own system). Builds the peer from the kit in ../shared/peers/original-cara (offline
# apart from PyPI/Debian packages; 1-2 min the first time, ~10 s after), generates the
# original's Python module for schemas/calculator.capnp, and runs
# examples/tests/interop_original_cara.rs. Extra arguments go to `cargo test`.
# env: CARA_ORIGINAL_CARA_KIT overrides the kit's folder.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kit=${CARA_ORIGINAL_CARA_KIT:-$root/../shared/peers/original-cara}
if [ ! -f "$kit/setup.sh" ]; then
    echo "original-cara.sh: no original cara kit at $kit (it comes with ../shared; set CARA_ORIGINAL_CARA_KIT)" >&2
    exit 1
fi
kit=$(cd "$kit" && pwd)
dir=$root/target/original-cara
bash "$kit/setup.sh" "$dir"
schema=$(bash "$kit/gen.sh" "$dir" "$root/schemas/calculator.capnp" "$dir/gen" | tail -n 1)
export CARA_ORIGINAL_PYTHON=$dir/venv/bin/python CARA_ORIGINAL_KIT=$kit CARA_ORIGINAL_SCHEMA=$schema
cd "$root"
cargo test -p cara-examples --features original-cara --test interop_original_cara "$@"
