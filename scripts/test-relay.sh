#!/usr/bin/env bash
# The relay (relay/, issue 9): formatting, lints, and its tests — unit, doc and integration
# tests that run the relay in-process and as the `safeconv-relay` binary against the emulator,
# with a test JWKS server, all on loopback. scripts/test-rust.sh leaves the relay's tests to
# this script, so they run once per scripts/test-all.sh.
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

log "cargo fmt --check (relay)"
cargo fmt -p safeconv-relay -- --check

log "cargo clippy (relay, all targets)"
cargo clippy -p safeconv-relay --all-targets -- -D warnings

log "cargo test (relay)"
cargo test -p safeconv-relay
