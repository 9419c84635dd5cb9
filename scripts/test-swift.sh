#!/usr/bin/env bash
# The Swift bindings, tested the way a Linux app uses them: scripts/build-swift.sh builds the
# package's generated sources and installs libsafeconv_uniffi with its pkg-config file into the
# Swift root's /usr/local; then `swift test` (XCTest, Swift 6 from Debian 13) runs against the
# emulator (started here unless SAFECONV_EMULATOR_URL is set), and the example agent console
# (examples/swift/AgentConsole, which depends on the package by path) is built and verifies one
# scripted caller. Neither build is given a flag or a library path.
#
# Debian 12 has no Swift, so the tests run in a Debian 13 root kept outside the repository
# ($SAFECONV_SWIFT_ROOT, default /var/cache/safeconv/swift-trixie): created on the first run
# (debootstrap + apt-get install swiftlang, a few minutes), reused afterwards. The package is
# copied in; the chroot shares the host's network, so the emulator on 127.0.0.1 is reachable.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mobile.sh"

SW_DIR="$ROOT/bindings/swift"
# Where the package and the example are built inside the chroot, laid out as in the repository
# (their .build directories are kept between runs).
IN_ROOT=/build/safeconv
IN_ROOT_DIR=$IN_ROOT/bindings/swift

trap 'swift_chroot_umount; _stop_emulators' EXIT

ensure_swift_chroot
bash "$ROOT/scripts/build-swift.sh" --debug --destdir "$SWIFT_ROOT"
in_swift_chroot ldconfig
ensure_emulator

log "copying the package and the example into the Swift root"
mkdir -p "$SWIFT_ROOT$IN_ROOT_DIR" "$SWIFT_ROOT$IN_ROOT/examples/swift/AgentConsole"
rm -rf "$SWIFT_ROOT$IN_ROOT_DIR"/{Package.swift,Sources,Tests,lib} "$SWIFT_ROOT$IN_ROOT/examples/swift/AgentConsole"/{Package.swift,Sources}
(cd "$ROOT" && tar -cf - bindings/swift/{Package.swift,Sources,Tests} examples/swift/AgentConsole/{Package.swift,Sources}) |
  (cd "$SWIFT_ROOT$IN_ROOT" && tar -xf -)

log "swift test (Swift bindings, XCTest)"
out="$(mktemp)"
set +e
in_swift_chroot env SAFECONV_EMULATOR_URL="$SAFECONV_EMULATOR_URL" SAFECONV_VERSION="$(safeconv_version)" \
  sh -c "cd $IN_ROOT_DIR && swift test --disable-swift-testing $*" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
# XCTest's closing line: "Executed N tests, with F failures (U unexpected) in ..."
summary="$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$out" | tail -n1 || true)"
total="$(sed -nE 's/.*Executed ([0-9]+) tests?.*/\1/p' <<<"$summary")"
failures="$(sed -nE 's/.*with ([0-9]+) failures?.*/\1/p' <<<"$summary")"
total="${total:-0}" failures="${failures:-0}"
if [ "$status" -ne 0 ] && [ "$failures" -eq 0 ]; then failures=1; fi
record_counts swift "$((total - failures))" "$failures"
rm -f "$out"
if [ "$status" -ne 0 ]; then exit "$status"; fi

# The example agent console, scripted: one caller who approves, then end of input.
log "examples/swift: the agent console through safeconv-relay, in front of the emulator"
start_relay
emulator_user 01018010018 '{"behaviour":"approve","afterMs":300}'
transcript="$(mktemp)"
set +e
in_swift_chroot sh -c "cd $IN_ROOT/examples/swift/AgentConsole && swift build" >&2 &&
  printf '01018010018\n' | in_swift_chroot env SAFECONV_RELAY_URL="$SAFECONV_RELAY_URL" SAFECONV_AGENT_KEY="$SAFECONV_AGENT_KEY" \
    "$IN_ROOT/examples/swift/AgentConsole/.build/debug/AgentConsole" >"$transcript" 2>&1
example_status=$?
set -e
sed 's/[0-9]\{11\}/<11 digits>/g; s/^/    /' "$transcript" >&2
if [ "$example_status" -eq 0 ]; then
  check_console swift "$transcript" || example_status=1
fi
if [ "$example_status" -eq 0 ] && ! grep -q "safeconv $(safeconv_version)" "$transcript"; then
  echo "examples/swift did not report safeconv $(safeconv_version)" >&2
  example_status=1
fi
rm -f "$transcript"
if [ "$example_status" -eq 0 ]; then record_counts swift-example 1 0; else record_counts swift-example 0 1; fi
exit "$example_status"
