#!/usr/bin/env bash
# Run every cargo-fuzz target for a bounded time and print executions and findings.
#
#   scripts/fuzz.sh [SECONDS]     # per target, default 60
#
# Installs cargo-fuzz if missing. Uses a nightly toolchain when one is installed, otherwise
# the stable one with RUSTC_BOOTSTRAP=1 (cargo fuzz needs -Z flags). Findings (crashing
# inputs) are kept in fuzz/artifacts/<target>/; the growing corpus in fuzz/corpus/<target>/
# (both git-ignored); the seeds in fuzz/seeds/<target>/ are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
TARGETS=${FUZZ_TARGETS:-"session_json error_body nin"}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    FUZZ=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    FUZZ=(cargo fuzz)
fi
# cargo fuzz builds into fuzz/target unless told otherwise; keep it apart from the main build.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$(pwd)/fuzz/target}

LOG_DIR=$CARGO_TARGET_DIR/fuzz-logs
mkdir -p "$LOG_DIR"
SUMMARY=()
FOUND=0
for target in $TARGETS; do
    "${FUZZ[@]}" build --release "$target" >&2
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    before=$(find "fuzz/artifacts/$target" -type f | wc -l)
    log=$LOG_DIR/$target.log
    echo "== $target: ${SECONDS_PER_TARGET}s" >&2
    set +e
    "${FUZZ[@]}" run --release "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
    after=$(find "fuzz/artifacts/$target" -type f | wc -l)
    findings=$((after - before))
    if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then findings=1; fi
    FOUND=$((FOUND + findings))
    SUMMARY+=("$(printf '%-14s %6ss %12s execs  corpus %5s  findings %s' \
        "$target" "$SECONDS_PER_TARGET" "${execs:-?}" "$corpus" "$findings")")
    if [ "$findings" -ne 0 ]; then
        grep -E 'panicked|ERROR: |SUMMARY|Test unit written' "$log" | head -20 >&2 || true
    fi
done
echo
echo "== fuzzing summary ($("${FUZZ[@]}" --version 2>/dev/null | head -1), $(date -u +%Y-%m-%dT%H:%MZ))"
printf '%s\n' "${SUMMARY[@]}"
[ "$FOUND" -eq 0 ]
