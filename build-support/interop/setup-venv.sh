#!/usr/bin/env bash
# Create (or refresh) the Python venv used by the pseud interop tests.
#
#   build-support/interop/setup-venv.sh [VENV_DIR]
#
# VENV_DIR defaults to target/interop-venv under the repository root.
# Needs only python3 (>= 3.8, tested with 3.11) with the venv module, and
# access to PyPI. Idempotent: a venv whose installed requirements match
# requirements.txt is only re-verified. The last line printed on stdout is
# the absolute path of the venv's python.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
req="$here/requirements.txt"
venv="${1:-$repo_root/target/interop-venv}"
python3_bin="${PYTHON3:-python3}"

die() {
    echo "setup-venv.sh: ERROR: $*" >&2
    exit 1
}

command -v "$python3_bin" >/dev/null 2>&1 || die "'$python3_bin' not found on PATH (set PYTHON3=/path/to/python3)"
[ -f "$req" ] || die "missing $req"

mkdir -p "$(dirname "$venv")"
venv="$(cd "$(dirname "$venv")" && pwd)/$(basename "$venv")"
py="$venv/bin/python"

if [ ! -x "$py" ]; then
    if [ -e "$venv" ]; then
        die "$venv exists but has no bin/python; remove it and run again"
    fi
    echo "setup-venv.sh: creating venv at $venv" >&2
    "$python3_bin" -m venv "$venv" \
        || die "'$python3_bin -m venv $venv' failed (on Debian/Ubuntu install python3-venv)"
fi
"$py" -m pip --version >/dev/null 2>&1 \
    || die "the venv at $venv has no working pip (python3 -m ensurepip missing?)"

stamp="$venv/.interop-requirements.sha256"
want="$("$py" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$req")"
have="$(cat "$stamp" 2>/dev/null || true)"

pip_install() {
    "$py" -m pip install --disable-pip-version-check --no-input "$@" >&2
}

if [ "$want" != "$have" ]; then
    echo "setup-venv.sh: installing $req" >&2
    # 1. the pinned build tools (msgpack 0.6.2 is built from its sdist)
    build_tools=()
    for name in setuptools wheel packaging; do
        line="$(grep -E "^$name==" "$req" || true)"
        [ -n "$line" ] || die "$req does not pin $name"
        build_tools+=("$line")
    done
    pip_install "${build_tools[@]}" \
        || die "could not install the build tools ${build_tools[*]} (is PyPI reachable?)"
    # 2. everything, built against those pinned tools
    pip_install --no-build-isolation -r "$req" \
        || die "pip could not install $req into $venv (is PyPI reachable? see pip's output above)"
fi

"$py" - <<'EOF' >&2 || die "verification of the venv at $venv failed (see above)"
import sys
import msgpack
import zmq
import pseud  # noqa: F401  (needs zope.component and msgpack < 1)
from importlib.metadata import version

if msgpack.version >= (1,):
    sys.exit("msgpack %s is installed; pseud 1.0.1 needs msgpack < 1" % (msgpack.version,))
# round trip through pseud's own packer: fails with msgpack >= 1
from pseud.packer import Packer
p = Packer()
assert p.unpackb(p.packb(["x", b"y", 1])) == ("x", b"y", 1)
print("setup-venv.sh: ok: python %s, pseud %s, pyzmq %s (libzmq %s), msgpack %s"
      % (sys.version.split()[0], version("pseud"), zmq.__version__,
         zmq.zmq_version(), ".".join(map(str, msgpack.version))))
EOF

echo "$want" > "$stamp"
echo "$py"
