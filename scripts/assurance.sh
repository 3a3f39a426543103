#!/usr/bin/env bash
# Continuous assurance (issue 13), run by .ci/run after `make test` (whose release
# build make sanitize and the soak test reuse):
#
#   1. the property tests (tests/properties.rs and the key record's,
#      src/keystore/codec_properties.rs; in `cargo test` already, not rerun)
#   2. make sanitize   every C example and tests/c/hostile_caller.c, ASan + UBSan
#   3. make miri       the C ABI under Miri (tests/ffi_uninit.rs, tests/ffi_contract.rs)
#   4. make asan-rust  the unit, C ABI, property and tamper tests under
#                      -Zsanitizer=address
#   5. make fuzz       every fuzz target for FUZZ_SECS (default 60), two at a time,
#      and beside it make soak: tests/soak.rs, SOAK_SECS (default 120)
#
# Installs what it needs, idempotently: the nightly toolchain with miri and
# rust-src (rustup), cargo-fuzz (pinned, cargo install --locked --debug). The fuzz
# targets are built in the background while sanitize, miri and asan-rust run, then
# fuzzed beside the soak (both run for a fixed time whatever CPU they get); a crash
# or a failed soak fails the run.
# Prints the wall time of each step. The Go suite already runs under -race in
# `make test` (bindings/go/run-tests.sh). Skip steps with ASSURANCE_SKIP="miri fuzz
# ...". make asan-rust is a second instrumented build (the crate, its dependencies
# and proptest, debug, no coverage instrumentation, so nothing is shared with the
# fuzz build; cbindgen and criterion are no dependencies under ASan, Cargo.toml):
# 203 CPU-s from an empty target dir with its six test binaries' run (243 CPU-s
# before, with them and without the unit tests), on a loaded 2-core machine.
#
# One fuzz build, with ASan, of all eight targets (`cargo fuzz build -O`), measured
# on 2 cores: 458 CPU-s, against 286 CPU-s with `-s none`. The `unsafe` code the
# targets reach is the C ABI's (advance_decrypt, decrypt, ids; with
# crypto/wiped_box.rs under each cipher they build), so ASan matters most there;
# but ASan for those three and `-s none` for the five pure-Rust decoders would
# build every dependency twice (an estimated 700+ CPU-s, the sum less a few
# targets), so the pure-Rust targets keep ASan at no extra build cost (it also
# watches the `unsafe` inside their dependencies: imbl, serde_json, clap, base64).
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

# --debug: cargo-fuzz only drives cargo and execs the targets, so its own speed does
# not matter; the unoptimised build costs 29 CPU-s here against 47 CPU-s.
install_cargo_fuzz() {
    if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
        cargo install --locked --debug "cargo-fuzz@$CARGO_FUZZ_VERSION"
    fi
}

build_fuzz_targets() {
    (cd fuzz && cargo +nightly fuzz build -O)
}

# In the background: cargo-fuzz, then the targets' build, each timed into the log.
prepare_fuzz() {
    local start=$SECONDS
    if [[ $SKIP != *" cargo-fuzz "* ]]; then
        install_cargo_fuzz
    fi
    echo "== assurance: cargo-fuzz install $((SECONDS - start)) s"
    start=$SECONDS
    build_fuzz_targets
    echo "== assurance: fuzz build $((SECONDS - start)) s"
}

step install install_nightly
fuzz_build_log=$(mktemp)
fuzz_build_pid=
if [[ $SKIP != *" fuzz "* ]]; then
    prepare_fuzz >"$fuzz_build_log" 2>&1 &
    fuzz_build_pid=$!
fi
step sanitize make sanitize
step miri make miri
step asan-rust make asan-rust
if [[ -n $fuzz_build_pid ]]; then
    start=$SECONDS
    wait "$fuzz_build_pid" || { cat "$fuzz_build_log"; exit 1; }
    grep -E 'Finished|^== assurance' "$fuzz_build_log"
    timings+=("$(printf '%-10s %4d s (waited for; %s, %s, beside the steps above)' fuzz-build \
        $((SECONDS - start)) "$(grep -o 'cargo-fuzz install [0-9]* s' "$fuzz_build_log")" \
        "$(grep -o 'fuzz build [0-9]* s' "$fuzz_build_log")")")
fi
# The soak and the fuzzers each run for a fixed time, whatever CPU they get: side
# by side, so that the two minutes of the soak are not two more minutes of CI.
soak_beside_fuzz() {
    local soak_log soak_pid soak_start=$SECONDS soak_rc=0 fuzz_rc=0
    soak_log=$(mktemp)
    make soak SOAK_SECS="${SOAK_SECS:-120}" >"$soak_log" 2>&1 &
    soak_pid=$!
    make fuzz FUZZ_SECS="${FUZZ_SECS:-60}" || fuzz_rc=$?
    wait "$soak_pid" || soak_rc=$?
    echo "== assurance: soak (beside fuzz, $((SECONDS - soak_start)) s until both ended):"
    cat "$soak_log"
    ((soak_rc == 0)) || echo "== assurance: soak FAILED (exit $soak_rc)"
    ((fuzz_rc == 0)) || echo "== assurance: fuzz FAILED (exit $fuzz_rc)"
    ((soak_rc == 0 && fuzz_rc == 0))
}
if [[ $SKIP == *" soak "* ]]; then
    step fuzz make fuzz FUZZ_SECS="${FUZZ_SECS:-60}"
elif [[ $SKIP == *" fuzz "* ]]; then
    step soak make soak SOAK_SECS="${SOAK_SECS:-120}"
else
    step fuzz+soak soak_beside_fuzz
fi

echo "== assurance: wall time per step"
printf '   %s\n' "${timings[@]}"
