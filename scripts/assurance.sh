#!/usr/bin/env bash
# Continuous assurance (issue 13), run by .ci/run after `make test` (whose release
# build make sanitize and the soak test reuse):
#
#   1. the property tests (tests/properties.rs; in `cargo test` already, not rerun)
#   2. make sanitize   every C example and tests/c/hostile_caller.c, ASan + UBSan
#   3. make miri       the C ABI under Miri (tests/ffi_uninit.rs, tests/ffi_contract.rs)
#   4. make soak       tests/soak.rs, SOAK_SECS (default 120)
#   5. make fuzz       every fuzz target for FUZZ_SECS (default 60), two at a time
#
# Installs what it needs, idempotently: the nightly toolchain with miri and
# rust-src (rustup), cargo-fuzz (pinned, cargo install --locked). The fuzz targets
# are built in the background while sanitize, soak and miri run (the soak runs for
# a fixed time whatever CPU it gets), then fuzzed. Prints the wall time of each
# step. The Go suite already runs under -race in `make test`
# (bindings/go/run-tests.sh). Skip steps with ASSURANCE_SKIP="miri fuzz ...";
# ASSURANCE_ASAN=1 adds make asan-rust (a second instrumented build of the crate).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.1
SKIP=" ${ASSURANCE_SKIP:-} "
timings=()

step() {
    local name=$1
    shift
    if [[ $SKIP == *" $name "* ]]; then
        echo "== assurance: $name skipped (ASSURANCE_SKIP)"
        return
    fi
    echo "== assurance: $name: $*"
    local start=$SECONDS
    "$@"
    timings+=("$(printf '%-10s %4d s' "$name" $((SECONDS - start)))")
}

install_nightly() {
    if ! rustup toolchain list | grep -q '^nightly'; then
        rustup toolchain install nightly --profile minimal
    fi
    rustup component add miri rust-src --toolchain nightly
}

install_cargo_fuzz() {
    if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
        cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
    fi
}

build_fuzz_targets() {
    (cd fuzz && cargo +nightly fuzz build -O)
}

step install install_nightly
step cargo-fuzz install_cargo_fuzz
fuzz_build_log=$(mktemp)
fuzz_build_pid=
if [[ $SKIP != *" fuzz "* ]]; then
    build_fuzz_targets >"$fuzz_build_log" 2>&1 &
    fuzz_build_pid=$!
fi
step sanitize make sanitize
step soak make soak SOAK_SECS="${SOAK_SECS:-120}"
step miri make miri
if [[ -n $fuzz_build_pid ]]; then
    start=$SECONDS
    wait "$fuzz_build_pid" || { cat "$fuzz_build_log"; exit 1; }
    tail -n 1 "$fuzz_build_log"
    timings+=("$(printf '%-10s %4d s (waited; built beside the steps above)' fuzz-build $((SECONDS - start)))")
fi
step fuzz make fuzz FUZZ_SECS="${FUZZ_SECS:-60}"
# A second instrumented build of the whole crate: only on request.
if [[ ${ASSURANCE_ASAN:-0} == 1 ]]; then
    step asan-rust make asan-rust
fi

echo "== assurance: wall time per step"
printf '   %s\n' "${timings[@]}"
