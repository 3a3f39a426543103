#!/usr/bin/env bash
# Runs `go vet` and `go test -race` for the Go binding against a freshly built
# liblocalkms, installed into a temporary prefix (bindings/test-prefix.sh).
#
#   bash bindings/go/run-tests.sh [LIBDIR]
#
# LIBDIR holds liblocalkms.so, liblocalkms.a and localkms (default: target/debug,
# what `cargo build` makes). The package finds the library the way a user's
# build does: `#cgo pkg-config: localkms` with PKG_CONFIG_PATH naming the prefix,
# and LD_LIBRARY_PATH for the test binary at run time.
#
# Needs Go >= 1.19 and a C compiler (Debian: apt-get install golang-go
# build-essential). Uses the standard library only: no module is downloaded.
# Set LOCALKMS_GO_RACE=0 to run without the race detector.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v go >/dev/null 2>&1; then
    echo "run-tests.sh: 'go' is not installed or not on PATH." >&2
    echo "  Debian/Ubuntu: apt-get update && apt-get install -y golang-go build-essential" >&2
    exit 2
fi
# shellcheck source=../test-prefix.sh
source "$here/../test-prefix.sh" "${1:-}"

# Go's caches: under ~/.cache when it is writable (faster reruns), else temporary.
cache_root="${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/localkms-go"
if ! mkdir -p "$cache_root" 2>/dev/null || [ ! -w "$cache_root" ]; then
    cache_root="$tmp/cache"
    mkdir -p "$cache_root"
fi

export CGO_ENABLED=1
# Go's build cache does not see pkg-config's output (golang/go#24544): a package
# built against an earlier run's prefix, since removed, would be reused and the
# test binary would link against nothing. A macro nothing reads, different on
# every run, makes the cache key of this one cgo package new.
export CGO_CPPFLAGS="${CGO_CPPFLAGS:+$CGO_CPPFLAGS }-DLOCALKMS_TEST_RUN_${tmp##*.}"
export GOCACHE="$cache_root/go-build"
export GOPATH="$cache_root/gopath"
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
export GOPROXY=off
export GO111MODULE=on

race=(-race)
if [ "${LOCALKMS_GO_RACE:-1}" = 0 ]; then
    race=()
fi
# The strict check of cgo's pointer rules (every pointer passed to C is checked
# for Go pointers it leads to). Go 1.21 moved it to GOEXPERIMENT=cgocheck2.
case "$(go env GOVERSION)" in
    go1.19* | go1.20*) export GODEBUG="${GODEBUG:+$GODEBUG,}cgocheck=2" ;;
    *) export GOEXPERIMENT="${GOEXPERIMENT:+$GOEXPERIMENT,}cgocheck2" ;;
esac

cd "$here"
echo "+ $(go version)"
echo "+ go vet ./... (and examples/go, the README's first program)"
go vet ./...
(cd "$repo/examples/go" && go vet ./...)
echo "+ ${GODEBUG:+GODEBUG=$GODEBUG }go test -v -count=1 ${race[*]} ./..."
go test -v -count=1 "${race[@]}" ./...
