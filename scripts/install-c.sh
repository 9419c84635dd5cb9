#!/usr/bin/env bash
# Builds the safeconv C library and installs it for C/C++ projects:
#   PREFIX/include/safeconv.h
#   PREFIX/lib/libsafeconv.so, PREFIX/lib/libsafeconv.a
#   PREFIX/lib/pkgconfig/safeconv.pc, safeconv-static.pc
#   PREFIX/lib/cmake/safeconv/safeconvConfig.cmake, safeconvConfigVersion.cmake
#
# Usage: scripts/install-c.sh [--prefix DIR] [--debug] [--no-build]
#   --prefix DIR  where to install (default /usr/local)
#   --debug       install the debug build instead of the release build
#   --no-build    install what is already built in $CARGO_TARGET_DIR (default ./target)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

prefix=/usr/local
profile=release
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --debug) profile=debug; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
if [ "$build" = 1 ]; then
  log "building libsafeconv ($profile)"
  if [ "$profile" = release ]; then
    cargo build -p safeconv --features c-api --release
  else
    cargo build -p safeconv --features c-api
  fi
fi

built="$TARGET_DIR/$profile"
for f in libsafeconv.so libsafeconv.a; do
  [ -f "$built/$f" ] || { echo "missing $built/$f (build with --features c-api)" >&2; exit 1; }
done

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
# What `rustc --print native-static-libs` lists for the archive on Linux (glibc).
native_static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
sizeof_void_p="$(getconf LONG_BIT)"
sizeof_void_p=$((sizeof_void_p / 8))

mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/safeconv"
install -m 644 include/safeconv.h "$prefix/include/safeconv.h"
install -m 755 "$built/libsafeconv.so" "$prefix/lib/libsafeconv.so"
install -m 644 "$built/libsafeconv.a" "$prefix/lib/libsafeconv.a"
for pc in safeconv safeconv-static; do
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
      -e "s|@NATIVE_STATIC_LIBS@|$native_static_libs|g" \
      "pkgconfig/$pc.pc.in" > "$prefix/lib/pkgconfig/$pc.pc"
done
install -m 644 cmake/safeconvConfig.cmake "$prefix/lib/cmake/safeconv/safeconvConfig.cmake"
sed -e "s|@VERSION@|$version|g" -e "s|@SIZEOF_VOID_P@|$sizeof_void_p|g" \
    cmake/safeconvConfigVersion.cmake.in > "$prefix/lib/cmake/safeconv/safeconvConfigVersion.cmake"
log "installed safeconv $version ($profile) into $prefix"
