#!/usr/bin/env bash
# The Python bindings: builds libsafeconv with --features uniffi, generates the `safeconv`
# module in library mode into bindings/python/generated/, and runs pytest against the
# emulator (started here unless SAFECONV_EMULATOR_URL is set), directly and, as an agent app
# does, through safeconv-relay (tests/test_relay.py).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mobile.sh"

PY_DIR="$ROOT/bindings/python"

if ! python3 -m pytest --version >/dev/null 2>&1; then
  log "installing pytest"
  python3 -m pip install --quiet pytest >&2
fi

build_mobile_lib
build_bindgen
log "generating the Python module"
generate_bindings python "$PY_DIR/generated"
cp -f "$MOBILE_LIB" "$PY_DIR/generated/libsafeconv.so"
ensure_emulator
# tests/test_relay.py runs an agent app through safeconv-relay.
log "building safeconv-relay"
(cd "$ROOT" && cargo build -q -p safeconv-relay)
export SAFECONV_RELAY_BIN="${SAFECONV_RELAY_BIN:-$TARGET_DIR/debug/safeconv-relay}"

log "pytest (Python bindings)"
report="$(mktemp)"
set +e
(cd "$PY_DIR" && python3 -m pytest -p no:cacheprovider --junitxml="$report" "$@")
status=$?
set -e
# Counts from the JUnit report: tests - failures - errors - skipped passed.
read -r total failures errors skipped < <(python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    n = lambda k: sum(int(s.get(k, 0)) for s in suites)
    print(n("tests"), n("failures"), n("errors"), n("skipped"))
except Exception:
    print(0, 0, 1, 0)
PY
)
record_counts python "$((total - failures - errors - skipped))" "$((failures + errors))"
rm -f "$report"
exit "$status"
