#!/usr/bin/env bash
# The Rust workspace: formatting, lints, unit/integration/doc tests, and the core for wasm32.
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (workspace, all targets: the UniFFI bridge crate included)"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo clippy (the C ABI)"
cargo clippy -p safeconv --all-targets --features c-api -- -D warnings

log "cargo clippy (the fuzzing entry points)"
cargo clippy -p safeconv --lib --features fuzzing -- -D warnings

log "cargo test (workspace, with the small fault soak; the relay's tests run in test-relay.sh)"
cargo test --workspace --exclude safeconv-relay

log "the core for wasm32-unknown-unknown"
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
cargo build -p safeconv --lib --target wasm32-unknown-unknown

log "cargo clippy for wasm32 (the core and its wasm tests)"
cargo clippy -p safeconv --lib --test wasm --target wasm32-unknown-unknown -- -D warnings

log "cargo fmt + clippy: the JavaScript bridge (bindings/js, its own workspace; wasm32)"
(cd bindings/js && cargo fmt -- --check &&
  CARGO_TARGET_DIR="$TARGET_DIR" cargo clippy --target wasm32-unknown-unknown -- -D warnings)
