#!/usr/bin/env bash
# Every test of the project, in every language, against the emulator. Installs what it needs on
# a fresh Debian machine and skips what is already there.
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

"$ROOT/scripts/test-rust.sh"
"$ROOT/scripts/test-wasm.sh"
"$ROOT/scripts/test-c.sh"
