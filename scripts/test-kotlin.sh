#!/usr/bin/env bash
# The Kotlin bindings, tested the way an app uses them. scripts/pack-kotlin.sh --debug --install
# builds the JAR (Kotlin classes and the stripped native library, debug profile) and installs it
# as no.safeconv:safeconv-kotlin:VERSION into the local Maven repository. The JUnit 5 tests
# (bindings/kotlin/tests, a project of their own) then run against that installed JAR and the
# emulator (started here unless SAFECONV_EMULATOR_URL is set). Last, the example agent console
# (examples/kotlin), which names only the coordinates, is checked to resolve that same JAR from
# the local repository, and verifies one scripted caller.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mobile.sh"

KT_DIR="$ROOT/bindings/kotlin"
version="$(safeconv_version)"
for pom in bindings/kotlin/tests/pom.xml examples/kotlin/pom.xml; do
  check_version "$pom" "$(sed -n 's/.*<safeconv.version>\(.*\)<\/safeconv.version>.*/\1/p' "$ROOT/$pom")" \
    "sed -i 's|<safeconv.version>.*</safeconv.version>|<safeconv.version>$version</safeconv.version>|' $pom"
done

packed="$(mktemp -d)"
trap '_stop_emulators; rm -rf "$packed"' EXIT
bash "$ROOT/scripts/pack-kotlin.sh" --debug --install "$packed" >/dev/null
jar="$KT_DIR/target/safeconv-kotlin-$version.jar"
log "JAR: $jar ($(du -h "$jar" | cut -f1))"
# What JUnit cannot see from inside: the library in the JAR has no symbol table left.
(cd "$packed" && jar xf "$jar" "linux-x86-64/$MOBILE_LIB_NAME")
if readelf -S "$packed/linux-x86-64/$MOBILE_LIB_NAME" | grep -q '\.symtab'; then
  echo "the JAR's native library is not stripped" >&2
  exit 1
fi
ensure_emulator

log "mvn test (JUnit, against the installed JAR)"
rm -rf "$KT_DIR/tests/target/surefire-reports"
set +e
(cd "$KT_DIR/tests" && SAFECONV_VERSION="$version" mvn -B --no-transfer-progress -Dstyle.color=never clean test "$@")
status=$?
set -e
read -r total failures errors skipped < <(python3 - "$KT_DIR/tests/target/surefire-reports" <<'PY'
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

# The example agent console: its one dependency must come from the local repository, byte for
# byte the JAR built above; then one scripted caller who approves, and end of input.
log "examples/kotlin: resolves no.safeconv:safeconv-kotlin:$version from the local Maven repository"
example_status=0
classpath="$packed/classpath"
(cd "$ROOT/examples/kotlin" && mvn -B -q --no-transfer-progress -Dstyle.color=never \
  dependency:build-classpath -Dmdep.outputFile="$classpath" >&2)
resolved="$(tr ':' '\n' <"$classpath" | grep "/no/safeconv/safeconv-kotlin/$version/safeconv-kotlin-$version.jar$" || true)"
if [ -z "$resolved" ] || ! cmp -s "$resolved" "$jar"; then
  echo "examples/kotlin does not use the installed JAR: ${resolved:-no safeconv-kotlin on its class path}" >&2
  example_status=1
else
  log "examples/kotlin uses $resolved"
fi

if [ "$example_status" -eq 0 ]; then
  log "examples/kotlin: the agent console through safeconv-relay, in front of the emulator"
  start_relay
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
  if [ "$example_status" -eq 0 ] && ! grep -q "safeconv $version" "$transcript"; then
    echo "examples/kotlin did not report safeconv $version" >&2
    example_status=1
  fi
  rm -f "$transcript"
fi
if [ "$example_status" -eq 0 ]; then record_counts kotlin-example 1 0; else record_counts kotlin-example 0 1; fi
exit "$example_status"
