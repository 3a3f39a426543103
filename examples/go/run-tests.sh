#!/usr/bin/env bash
# Runs `go vet` and `go test -race` for the Go binding against a freshly built
# liblocalkms.so.
#
#   examples/go/run-tests.sh [LIBDIR]
#
# LIBDIR holds liblocalkms.so (default: ../../target/debug relative to this
# script, i.e. what `cargo build` makes). The library is copied into a temporary
# directory as liblocalkms.so.0 (its SONAME) with the link-time name
# liblocalkms.so pointing at it, the way an installed library looks, and the test
# binary links against it with an rpath there.
#
# Needs Go >= 1.19 and a C compiler (Debian: apt-get install golang-go
# build-essential). Uses the standard library only: no module is downloaded.
# Set LOCALKMS_GO_RACE=0 to run without the race detector.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
libdir="${1:-$here/../../target/debug}"

if ! command -v go >/dev/null 2>&1; then
    echo "run-tests.sh: 'go' is not installed or not on PATH." >&2
    echo "  Debian/Ubuntu: apt-get update && apt-get install -y golang-go build-essential" >&2
    exit 2
fi
cc_bin="${CC:-gcc}"
if ! command -v "$cc_bin" >/dev/null 2>&1; then
    echo "run-tests.sh: C compiler '$cc_bin' not found; cgo needs one." >&2
    echo "  Debian/Ubuntu: apt-get install -y build-essential" >&2
    exit 2
fi
if [ ! -f "$libdir/liblocalkms.so" ]; then
    echo "run-tests.sh: $libdir/liblocalkms.so not found: run 'cargo build' first," >&2
    echo "  or pass the directory that holds liblocalkms.so." >&2
    exit 2
fi
libdir="$(cd "$libdir" && pwd)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/localkms-go.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The SONAME layout: liblocalkms.so.0 (a copy, so a concurrent cargo build cannot
# change it under the tests) and liblocalkms.so -> liblocalkms.so.0.
mkdir "$tmp/lib"
cp "$libdir/liblocalkms.so" "$tmp/lib/liblocalkms.so.0"
ln -s liblocalkms.so.0 "$tmp/lib/liblocalkms.so"

# Go's caches: under ~/.cache when it is writable (faster reruns), else temporary.
cache_root="${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/localkms-go"
if ! mkdir -p "$cache_root" 2>/dev/null || [ ! -w "$cache_root" ]; then
    cache_root="$tmp/cache"
    mkdir -p "$cache_root"
fi

export CGO_ENABLED=1
export CGO_CFLAGS="-I$repo/include -O2 -g"
export CGO_LDFLAGS="-L$tmp/lib -Wl,-rpath,$tmp/lib"
export GOCACHE="$cache_root/go-build"
export GOPATH="$cache_root/gopath"
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
export GOPROXY=off
export GO111MODULE=on
# For the C helper program the tests compile (testdata/interop.c).
export LOCALKMS_LIB_DIR="$tmp/lib"

race=(-race)
if [ "${LOCALKMS_GO_RACE:-1}" = 0 ]; then
    race=()
fi
# The strict check of cgo's pointer rules (every pointer passed to C is checked
# for Go pointers it leads to). Go 1.21 moved it to GOEXPERIMENT=cgocheck2.
case "$(go env GOVERSION)" in
    go1.19* | go1.20*) export GODEBUG="${GODEBUG:+$GODEBUG,}cgocheck=2" ;;
esac

cd "$here"
echo "+ $(go version); liblocalkms from $libdir"
echo "+ go vet ./..."
go vet ./...
echo "+ ${GODEBUG:+GODEBUG=$GODEBUG }go test -v -count=1 ${race[*]} ./..."
go test -v -count=1 "${race[@]}" ./...
