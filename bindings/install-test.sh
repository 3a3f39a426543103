#!/usr/bin/env bash
# The bindings' install test: what a new user types, from a clone, to a working
# first program. For each binding it runs the commands of its README (the ```sh
# block after the line `<!-- install-test: LANG -->`) from the repository root,
# with HOME set to a fresh temporary folder, so that the README's
# PREFIX="$HOME/.local" is a throw-away prefix that `make install` fills and the
# binding is built and installed from that prefix alone (no PKG_CONFIG_PATH,
# LD_LIBRARY_PATH or LOCALKMS_LIBRARY from the caller; Go's and pip's caches are
# fresh too). Then it checks that the program printed the decrypted "secret" and
# the InvalidCiphertext of a decrypt without the Aad, and that the README shows
# the first program (examples/...) as it is in the repository.
#
#   bash bindings/install-test.sh [go] [java] [python]     (default: all three)
#
# Needs what `make test` installs (scripts/install-deps.sh); pip fetches
# setuptools from PyPI. `make install` builds the release library first (a no-op
# when it is built already).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
languages=("$@")
[ "${#languages[@]}" -gt 0 ] || languages=(go java python)

tmp="$(mktemp -d "${TMPDIR:-/tmp}/localkms-install-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# cargo and rustup live under the caller's HOME unless told otherwise.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
unset PKG_CONFIG_PATH LD_LIBRARY_PATH LOCALKMS_LIBRARY GOFLAGS GOPATH GOCACHE GOPROXY \
    PYTHONPATH VIRTUAL_ENV CGO_CFLAGS CGO_CPPFLAGS CGO_LDFLAGS

# The ```sh block after the marker, and the file a fenced block of the first
# program must equal.
readme_block() { # README MARKER
    awk -v marker="<!-- install-test: $2 -->" '
        $0 == marker { armed = 1; next }
        armed && /^```sh$/ { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }
    ' "$1"
}

failed=0
for lang in "${languages[@]}"; do
    case "$lang" in
        go) readme=bindings/go/README.md program=examples/go/quickstart/main.go ;;
        java) readme=bindings/java/README.md program=examples/java/Quickstart.java ;;
        python) readme=bindings/python/README.md program=examples/python/quickstart.py ;;
        *) echo "install-test.sh: unknown binding '$lang' (go, java, python)" >&2; exit 2 ;;
    esac
    commands="$(readme_block "$repo/$readme" "$lang")"
    if [ -z "$commands" ]; then
        echo "install-test.sh: no '<!-- install-test: $lang -->' sh block in $readme" >&2
        exit 1
    fi
    if ! python3 - "$repo/$readme" "$repo/$program" <<'EOF'; then
import sys
readme, program = (open(p, encoding="utf-8").read() for p in sys.argv[1:])
sys.exit(0 if "\n" + program + "```" in readme else 1)
EOF
        echo "FAIL $lang: $readme does not show $program as it is" >&2
        failed=1
        continue
    fi

    # As in a fresh clone: no build/ or *.egg-info that an earlier
    # `pip install ./bindings/python` left (a stale build/lib could be packaged).
    rm -rf "$repo/bindings/python/build" "$repo"/bindings/python/*.egg-info
    home="$tmp/home-$lang"
    mkdir -p "$home"
    echo "+ $lang: from $readme, with HOME=$home"
    printf '%s\n' "$commands" | sed 's/^/    /'
    out="$tmp/$lang.out"
    if ! (cd "$repo" && HOME="$home" bash -euo pipefail -c "$commands") >"$out" 2>&1; then
        echo "FAIL $lang: the README's commands failed:" >&2
        cat "$out" >&2
        failed=1
        continue
    fi
    if grep -q "secret" "$out" && grep -q "without the [Aa]ad: InvalidCiphertext (HTTP 400)" "$out"; then
        echo "PASS $lang:"
        tail -n 2 "$out" | sed 's/^/    /'
    else
        echo "FAIL $lang: the first program did not print what its README says:" >&2
        cat "$out" >&2
        failed=1
    fi
done
exit "$failed"
