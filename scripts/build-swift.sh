#!/usr/bin/env bash
# Builds the Swift package in bindings/swift for use by path (`.package(path: ...)`): builds the
# UniFFI library, generates the package's generated sources from it, and installs the library as
# SwiftPM on Linux finds a system library, with a pkg-config file:
#   bindings/swift/Sources/SafeconvUniFFI/SafeconvUniFFI.swift   (uniffi-bindgen)
#   bindings/swift/Sources/safeconvFFI/{safeconvFFI.h, module.modulemap}
#   DESTDIR/PREFIX/lib/libsafeconv_uniffi.so                     (stripped)
#   DESTDIR/PREFIX/lib/pkgconfig/safeconv-uniffi.pc
#
# Usage: scripts/build-swift.sh [--debug] [--prefix DIR] [--destdir DIR]
#   --debug        the debug build of the library (quicker; what scripts/test-swift.sh uses)
#   --prefix DIR   where the library is installed and found (default /usr/local: then `swift
#                  build` needs nothing else; with another prefix, set PKG_CONFIG_PATH to
#                  DIR/lib/pkgconfig to build and LD_LIBRARY_PATH to DIR/lib to run)
#   --destdir DIR  stage the installation under DIR (e.g. another root file system)
# Installing into the system's /usr/local needs root; run ldconfig afterwards.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mobile.sh"

SW_DIR="$ROOT/bindings/swift"
profile=--release
prefix=/usr/local
destdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=""; shift ;;
    --prefix) prefix="$2"; shift 2 ;;
    --destdir) destdir="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

build_mobile_lib $profile
build_bindgen
log "generating the Swift bindings"
gen="$(mktemp -d)"
generate_bindings swift "$gen"
mkdir -p "$SW_DIR/Sources/SafeconvUniFFI" "$SW_DIR/Sources/safeconvFFI"
cp -f "$gen/SafeconvUniFFI.swift" "$SW_DIR/Sources/SafeconvUniFFI/SafeconvUniFFI.swift"
cp -f "$gen/safeconvFFI.h" "$SW_DIR/Sources/safeconvFFI/safeconvFFI.h"
rm -rf "$gen"
# Our own module map: the generated one is for Darwin frameworks; this one links the library,
# which SwiftPM finds through safeconv-uniffi.pc (the target's `pkgConfig`).
cat >"$SW_DIR/Sources/safeconvFFI/module.modulemap" <<'MAP'
module safeconvFFI {
    header "safeconvFFI.h"
    link "safeconv_uniffi"
    export *
}
MAP

libdir="$destdir$prefix/lib"
log "installing $MOBILE_LIB_NAME and safeconv-uniffi.pc into $libdir"
strip_copy "$MOBILE_LIB" "$libdir/$MOBILE_LIB_NAME"
mkdir -p "$libdir/pkgconfig"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$(safeconv_version)|" \
  "$SW_DIR/safeconv-uniffi.pc.in" >"$libdir/pkgconfig/safeconv-uniffi.pc"
