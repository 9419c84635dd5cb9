#!/usr/bin/env bash
# Every test of the project, in every language, against the emulator. Installs what it needs on
# a fresh Debian machine and skips what is already there. Each suite prints its own summary; a
# failing suite stops the run with its exit code.
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

suites=(test-rust.sh test-relay.sh test-c.sh test-wasm.sh test-mobile.sh)
started=$SECONDS
for suite in "${suites[@]}"; do
  log "scripts/$suite"
  "$ROOT/scripts/$suite"
done
log "all suites passed in $((SECONDS - started)) s"
echo "suites: ${#suites[@]} passed, 0 failed"
