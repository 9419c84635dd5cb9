#!/usr/bin/env bash
# Regenerates include/safeconv.h from src/ffi/ with the pinned cbindgen (0.29.4).
# Run it after changing the C API; commit the header with the change.
#   scripts/gen-header.sh           regenerate
#   scripts/gen-header.sh --verify  only check that the checked-in header is up to date
#
# cbindgen reads src/ffi/mod.rs (and the modules it declares) as a single source: the rest of
# the crate is not part of the C API (the UniFFI bindings there have Rust types with the same
# names, which must not leak into the header).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CBINDGEN_VERSION=0.29.4
need_cargo_tool cbindgen "$CBINDGEN_VERSION"

cd "$ROOT"
if [ "${1:-}" = "--verify" ]; then
  if ! cbindgen --quiet --config cbindgen.toml --verify --output include/safeconv.h src/ffi/mod.rs; then
    echo "include/safeconv.h is out of date with src/ffi: run scripts/gen-header.sh and commit it" >&2
    exit 1
  fi
  echo "include/safeconv.h is up to date"
else
  cbindgen --quiet --config cbindgen.toml --output include/safeconv.h src/ffi/mod.rs
  echo "wrote include/safeconv.h"
fi
