#!/usr/bin/env bash
# "The soak flag": the fault soak at full size (1 000 sessions, 20 % faults of every kind on
# every endpoint) and every fuzz target for a bounded time.
#
#   scripts/soak.sh [FUZZ_SECONDS_PER_TARGET]   # default 120
#
# The small soak (100 sessions) runs in CI with the other tests (`cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${1:-120}

echo "== fault soak, full size" >&2
SAFECONV_SOAK=full cargo test -p safeconv --test soak -- --nocapture --test-threads 1

echo "== fuzzing, ${FUZZ_SECONDS}s per target" >&2
scripts/fuzz.sh "$FUZZ_SECONDS"
