#!/usr/bin/env bash
# Builds the JavaScript package in bindings/js: the bridge crate there (the core plus the
# wasm-bindgen API, release profile tuned for size, see docs/wasm.md) for wasm32, and
# wasm-bindgen's ES-module glue written to bindings/js/pkg/.
#
#   scripts/build-js.sh            # release build (what the package ships)
#   scripts/build-js.sh --dev      # debug build: faster to compile, much bigger
#
# Installs what is missing: the wasm32 target and wasm-bindgen-cli at the version Cargo.toml pins.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mode=release
[ "${1:-}" = "--dev" ] && mode=dev

# One version: the npm package's must be the one in Cargo.toml (the JS `version` export is the
# core's, from the same file).
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)"
npm_version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/bindings/js/package.json" | head -n1)"
if [ "$version" != "$npm_version" ]; then
  echo "bindings/js/package.json has version $npm_version, Cargo.toml $version; fix it with:" >&2
  echo "  (cd bindings/js && npm pkg set version=$version)" >&2
  exit 1
fi

WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n1)"
: "${WASM_BINDGEN_VERSION:?cannot find the wasm-bindgen pin in Cargo.toml}"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >&2
fi
need_cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

# bindings/js is its own workspace (own Cargo.lock); share the target directory all the same.
export CARGO_TARGET_DIR="$TARGET_DIR"
log "building bindings/js for wasm32 ($mode)"
if [ "$mode" = release ]; then
  (cd "$ROOT/bindings/js" && cargo build --target wasm32-unknown-unknown --release)
  input="$TARGET_DIR/wasm32-unknown-unknown/release/safeconv_js.wasm"
else
  (cd "$ROOT/bindings/js" && cargo build --target wasm32-unknown-unknown)
  input="$TARGET_DIR/wasm32-unknown-unknown/debug/safeconv_js.wasm"
fi

pkg="$ROOT/bindings/js/pkg"
rm -rf "$pkg"
log "generating the JavaScript glue (wasm-bindgen $WASM_BINDGEN_VERSION)"
# The TypeScript declarations are hand-written (bindings/js/index.d.ts).
wasm-bindgen --target web --out-dir "$pkg" --out-name safeconv --no-typescript \
  --remove-name-section --remove-producers-section "$input"

wasm="$pkg/safeconv_bg.wasm"
raw=$(wc -c <"$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
glue=$(wc -c <"$pkg/safeconv.js")
glue_gz=$(gzip -9 -c "$pkg/safeconv.js" | wc -c)
log "built bindings/js ($mode)"
printf 'safeconv_bg.wasm: %d bytes raw, %d bytes gzip -9\n' "$raw" "$gz"
printf 'safeconv.js glue: %d bytes raw, %d bytes gzip -9\n' "$glue" "$glue_gz"
