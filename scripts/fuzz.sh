#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each, JOBS at a time (default 2),
# each from its committed seeds (fuzz/seeds/<target>) and its growing corpus
# (fuzz/corpus/<target>, not committed), with its dictionary where it has one;
# prints each target's executions and coverage (cov, ft) at the end and fails if
# any target found a crash (saved under fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh 60          CI (scripts/assurance.sh)
#   scripts/fuzz.sh 3600        make fuzz-long
#   FUZZ_TARGETS="decrypt ids" scripts/fuzz.sh 600 1    some targets only
#
# A failing target's log ends up in the output too (the CI log is all one sees).
# Needs the nightly toolchain and cargo-fuzz (scripts/assurance.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

SECONDS_EACH=${1:-60}
JOBS=${2:-2}
read -ra TARGETS <<<"${FUZZ_TARGETS:-advance_decrypt decrypt key_record store_payload v1_file master_key_file cli_input ids}"
LOGS=${FUZZ_LOG_DIR:-target/fuzz-logs}
mkdir -p "$LOGS"

dict_of() {
    case "$1" in
        advance_decrypt | decrypt) echo dicts/decrypt.dict ;;
        key_record | store_payload | v1_file) echo dicts/store.dict ;;
        cli_input) echo dicts/cli_input.dict ;;
        ids) echo dicts/ids.dict ;;
    esac
}

cargo +nightly fuzz build -O 2>&1 | tail -n 3

run_one() {
    local target=$1 dict
    dict=$(dict_of "$target")
    mkdir -p "corpus/$target" "artifacts/$target"
    cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1 -rss_limit_mb=2048 \
        -timeout=10 ${dict:+-dict="$dict"} >"$LOGS/$target.log" 2>&1
}

failed=0
fail() {
    echo "fuzz: $1 FAILED (see $LOGS/$1.log; the input is under fuzz/artifacts/$1/):"
    tail -n 60 "$LOGS/$1.log"
    failed=1
}
pids=()
names=()
for target in "${TARGETS[@]}"; do
    run_one "$target" &
    pids+=($!)
    names+=("$target")
    if ((${#pids[@]} >= JOBS)); then
        wait "${pids[0]}" || fail "${names[0]}"
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "${names[$i]}"
done

printf '%-16s %12s %8s %8s %8s\n' target executions cov ft corpus
for target in "${TARGETS[@]}"; do
    log="$LOGS/$target.log"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    printf '%-16s %12s %8s %8s %8s\n' "$target" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
done
exit "$failed"
