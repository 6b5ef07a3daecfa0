#!/usr/bin/env bash
# The multi-host scale-out test (examples/tests/scale_out.rs): a client host, a
# broker host and replica hosts as network namespaces the test creates, with
# `cara broker` and `tier-replica` started in them. Needs root (ip netns) and
# iproute2's `ip`; it fails, saying so, without them. Extra arguments go to the test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" != 0 ]; then
    echo "scale-out.sh: the scale-out test creates network namespaces: run it as root" >&2
    exit 1
fi
# The test starts the real `cara` binary; build it where the test looks (beside it).
cargo build -p cara-cli --bin cara
cargo test -p cara-examples --features netns --test scale_out -- --nocapture "$@"
