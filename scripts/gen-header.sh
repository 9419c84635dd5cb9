#!/usr/bin/env bash
# include/safeconv.h is generated from src/ffi/ by build.rs, with the pinned cbindgen (0.29.4) that
# the `c-api` feature adds as a build-dependency. A build with `--features c-api` compares the
# header it generates with the checked-in one and fails when they differ; this is a thin wrapper:
#   scripts/gen-header.sh           refresh the checked-in header (commit it with the change):
#                                   SAFECONV_UPDATE_HEADER=1 cargo build -p safeconv --features c-api
#   scripts/gen-header.sh --verify  only check it (CI): the same build, without the opt-in
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

cd "$ROOT"
if [ "${1:-}" = "--verify" ]; then
  if ! env -u SAFECONV_UPDATE_HEADER cargo build -q -p safeconv --lib --features c-api; then
    echo "include/safeconv.h is out of date with src/ffi: run scripts/gen-header.sh and commit it" >&2
    exit 1
  fi
  echo "include/safeconv.h is up to date"
else
  SAFECONV_UPDATE_HEADER=1 cargo build -q -p safeconv --lib --features c-api
  echo "include/safeconv.h is up to date with src/ffi"
fi
