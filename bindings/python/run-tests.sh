#!/usr/bin/env bash
# Runs the Python binding's tests with pytest against the package installed
# (pip install ".[test]") into a fresh virtual environment, with the library
# installed into a temporary prefix (bindings/test-prefix.sh) that the package
# finds through pkg-config, as after `make install`. Also checks the package with
# mypy --strict.
#
#   bash bindings/python/run-tests.sh [LIBDIR] [PYTEST_ARGS...]
#
# LIBDIR holds liblocalkms.so, liblocalkms.a and localkms (default: target/debug,
# what `cargo build` makes). pip fetches setuptools (the build backend), pytest,
# cryptography (it stands in for the cloud in one test) and mypy from PyPI (or
# the index pip is configured with). Needs python3 with the venv module (Debian:
# python3-venv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "run-tests.sh: $python cannot make a virtual environment: apt-get install -y python3-venv" >&2
    exit 2
fi
# shellcheck source=../test-prefix.sh
source "$here/../test-prefix.sh" "${1:-}"
if [ "$#" -gt 0 ]; then shift; fi

# pip builds from a copy: setuptools writes build/ and *.egg-info where it
# builds, and a stale build/lib could be packaged in place of the sources.
mkdir "$tmp/src"
cp -r "$here/pyproject.toml" "$here/README.md" "$here/localkms" "$tmp/src/"
set -x
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "$tmp/src[test]" mypy
{ set +x; } 2>/dev/null
# mypy checks the source tree's package (its config is in pyproject.toml), and
# the first program against the installed package: py.typed makes its types
# those of a user's code.
(cd "$here" && "$tmp/venv/bin/mypy")
(cd "$tmp" && "$tmp/venv/bin/mypy" --strict "$repo/examples/python/quickstart.py")
# The tests import the installed package: run them from outside the source tree,
# so that bindings/python/localkms cannot shadow it.
cd "$tmp"
export PYTHONDONTWRITEBYTECODE=1   # leave no __pycache__ in the source tree
"$tmp/venv/bin/python" -m pytest -p no:cacheprovider -q -rs --rootdir "$here" "$here/tests" "$@"
