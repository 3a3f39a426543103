#!/usr/bin/env bash
# Runs the Python binding's tests against a freshly built liblocalkms.so.
#
#   bash examples/python/run-tests.sh [DIR]
#
# DIR holds liblocalkms.so (default: ../../target/debug relative to this script,
# i.e. what `cargo build` made). The library is copied to a temporary directory
# under its SONAME, liblocalkms.so.0, with a liblocalkms.so symlink beside it (for
# the C test program's -llocalkms), and LOCALKMS_LIBRARY points at the .so.0.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libdir="${1:-$here/../../target/debug}"

if [ ! -f "$libdir/liblocalkms.so" ]; then
    echo "run-tests.sh: $libdir/liblocalkms.so not found; run 'cargo build' first" >&2
    exit 2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/localkms-python.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cp "$libdir/liblocalkms.so" "$tmp/liblocalkms.so.0"
ln -s liblocalkms.so.0 "$tmp/liblocalkms.so"

export LOCALKMS_LIBRARY="$tmp/liblocalkms.so.0"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1   # leave no __pycache__ in the source tree

cd "$here"
python3 -m unittest discover -v -s "$here/tests" -p 'test_*.py'
