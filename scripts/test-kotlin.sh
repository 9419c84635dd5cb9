#!/usr/bin/env bash
# The Kotlin bindings: builds the UniFFI bridge (crate bindings/uniffi), generates the Kotlin in
# library mode into bindings/kotlin/generated/, and runs `mvn install` there: JUnit 5 tests on the JVM
# against the emulator (started here unless SAFECONV_EMULATOR_URL is set), then the JAR with the
# native library under linux-x86-64/ (installed into the local Maven repository). Then the
# example agent console (examples/kotlin) verifies one scripted caller.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mobile.sh"

KT_DIR="$ROOT/bindings/kotlin"

command -v mvn >/dev/null 2>&1 || need_apt maven
command -v javac >/dev/null 2>&1 || need_apt openjdk-17-jdk-headless

build_mobile_lib
build_bindgen
log "generating the Kotlin bindings"
generate_bindings kotlin "$KT_DIR/generated/kotlin"
mkdir -p "$KT_DIR/generated/resources/linux-x86-64"
# The JAR's copy without DWARF (a quarter of the size); the symbols stay. Generation above read
# the unstripped library.
rm -f "$KT_DIR/generated/resources/linux-x86-64/"*.so
objcopy --strip-debug "$MOBILE_LIB" "$KT_DIR/generated/resources/linux-x86-64/$MOBILE_LIB_NAME" 2>/dev/null ||
  cp -f "$MOBILE_LIB" "$KT_DIR/generated/resources/linux-x86-64/$MOBILE_LIB_NAME"
ensure_emulator

log "mvn install (Kotlin bindings: JUnit on the JVM, then the JAR, into the local repository)"
rm -rf "$KT_DIR/target/surefire-reports"
set +e
(cd "$KT_DIR" && mvn -B --no-transfer-progress -Dstyle.color=never install "$@")
status=$?
set -e

# The example agent console, scripted: one caller who approves, then end of input.
example_status=0
if [ "$status" -eq 0 ]; then
  log "examples/kotlin: the agent console against the emulator"
  emulator_user 01018010018 '{"behaviour":"approve","afterMs":300}'
  transcript="$(mktemp)"
  set +e
  (cd "$ROOT/examples/kotlin" && printf '01018010018\n' |
    mvn -B -q --no-transfer-progress -Dstyle.color=never compile exec:java) >"$transcript" 2>&1
  example_status=$?
  set -e
  sed 's/[0-9]\{11\}/<11 digits>/g; s/^/    /' "$transcript" >&2
  if [ "$example_status" -eq 0 ]; then
    check_console kotlin "$transcript" || example_status=1
  fi
  rm -f "$transcript"
fi
read -r total failures errors skipped < <(python3 - "$KT_DIR/target/surefire-reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
t = f = e = s = 0
for path in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    root = ET.parse(path).getroot()
    t += int(root.get("tests", 0)); f += int(root.get("failures", 0))
    e += int(root.get("errors", 0)); s += int(root.get("skipped", 0))
print(t, f, e, s)
PY
)
if [ "$status" -ne 0 ] && [ "$((failures + errors))" -eq 0 ]; then errors=1; fi
record_counts kotlin "$((total - failures - errors - skipped))" "$((failures + errors))"
if [ "$status" -ne 0 ]; then exit "$status"; fi
log "JAR: $(ls "$KT_DIR"/target/safeconv-kotlin-*.jar)"
if [ "$example_status" -eq 0 ]; then record_counts kotlin-example 1 0; else record_counts kotlin-example 0 1; fi
exit "$example_status"
