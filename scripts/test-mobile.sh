#!/usr/bin/env bash
# The UniFFI bindings (issue 4): Python, Kotlin and Swift, each against the Signicat emulator.
#
# On a fresh Debian 12 machine this installs what is missing (pytest; Maven and a JDK if absent;
# debootstrap and a Debian 13 root with Swift 6 in /var/cache/safeconv/swift-trixie, reused
# afterwards), builds the UniFFI bridge (crate bindings/uniffi, libsafeconv_uniffi) and the
# workspace's uniffi-bindgen,
# generates the bindings in library mode, starts one emulator and runs the bridge's Rust unit
# tests, pytest, Maven/JUnit and swift test. Exits non-zero if anything failed; the last line is the total:
#   mobile: N passed, F failed
#
# Honours CARGO_TARGET_DIR and SAFECONV_SWIFT_ROOT. Run one language with scripts/test-python.sh,
# scripts/test-kotlin.sh or scripts/test-swift.sh.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mobile.sh"

started=$SECONDS
SAFECONV_MOBILE_COUNTS="$(mktemp)"
export SAFECONV_MOBILE_COUNTS

# Host packages first, one apt at a time.
command -v mvn >/dev/null 2>&1 || need_apt maven
command -v javac >/dev/null 2>&1 || need_apt openjdk-17-jdk-headless
swift_log="$(mktemp)"
swift_pid=""
if [ ! -f "$SWIFT_ROOT/.safeconv-ready" ]; then
  need_apt debootstrap
  # The Swift root takes minutes to set up, mostly downloads: do it while cargo builds.
  log "setting up Swift 6 in $SWIFT_ROOT in the background (log: $swift_log)"
  (
    trap swift_chroot_umount EXIT
    ensure_swift_chroot
  ) >"$swift_log" 2>&1 &
  swift_pid=$!
fi

trap '_stop_emulators; [ -n "$swift_pid" ] && kill "$swift_pid" 2>/dev/null; rm -f "$SAFECONV_MOBILE_COUNTS"' EXIT

build_mobile_lib
build_bindgen
start_emulator
log "emulator at $SAFECONV_EMULATOR_URL"

failed_suites=()
run_suite() {
  local name="$1"
  shift
  log "=== $name ==="
  local before
  before="$(wc -l <"$SAFECONV_MOBILE_COUNTS")"
  if ! "$@"; then
    failed_suites+=("$name")
    # A suite that died before its runner reported still counts as a failure.
    if [ "$(wc -l <"$SAFECONV_MOBILE_COUNTS")" -eq "$before" ]; then
      record_counts "$name" 0 1
    fi
  fi
}

# The bridge's own unit tests (conversions, masking, error mapping), without the foreign side.
rust_bridge_tests() {
  local out status
  out="$(mktemp)"
  set +e
  (cd "$ROOT" && cargo test -p safeconv-uniffi --lib 2>&1) | tee "$out"
  status=${PIPESTATUS[0]}
  set -e
  read -r p f < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$out" | head -n1)
  record_counts rust "${p:-0}" "${f:-1}"
  rm -f "$out"
  return "$status"
}

run_suite rust rust_bridge_tests
run_suite python bash "$ROOT/scripts/test-python.sh"
run_suite kotlin bash "$ROOT/scripts/test-kotlin.sh"
if [ -n "$swift_pid" ]; then
  log "waiting for the Swift set-up"
  if ! wait "$swift_pid"; then
    swift_pid=""
    cat "$swift_log" >&2
    echo "setting up Swift failed" >&2
  fi
  swift_pid=""
fi
run_suite swift bash "$ROOT/scripts/test-swift.sh"

passed=0 failed=0
while read -r name p f; do
  printf '  %-7s %3d passed, %d failed\n' "$name" "$p" "$f"
  passed=$((passed + p)) failed=$((failed + f))
done <"$SAFECONV_MOBILE_COUNTS"
log "mobile bindings done in $((SECONDS - started)) s${failed_suites:+; failed: ${failed_suites[*]}}"
echo "mobile: $passed passed, $failed failed"
[ "${#failed_suites[@]}" -eq 0 ] && [ "$failed" -eq 0 ]
