#!/usr/bin/env bash
# Builds the C library's release archive: DEST/safeconv-c-VERSION-linux-ARCH.tar.gz (default dest:
# dist/), VERSION being the one in Cargo.toml. Prints the archive's path on stdout.
#
#   scripts/pack-c.sh [--debug] [--no-build] [DEST]
#
# --debug packs the debug build (quicker to build, the same code: what CI tests the archive
# with); --no-build packs what is already built.
#
# The archive holds one directory, safeconv-c-VERSION-linux-ARCH/, laid out as an install prefix
# (what scripts/install-c.sh writes): include/safeconv.h, lib/libsafeconv.so (stripped),
# lib/libsafeconv.a, lib/pkgconfig/safeconv{,-static}.pc and lib/cmake/safeconv/. It is
# relocatable: the pkg-config files find their prefix from their own place (${pcfiledir}) and
# the CMake package from its own (CMAKE_CURRENT_LIST_DIR), so it can be unpacked anywhere:
#
#   tar -xzf safeconv-c-0.1.0-linux-x86_64.tar.gz -C /opt
#   PKG_CONFIG_PATH=/opt/safeconv-c-0.1.0-linux-x86_64/lib/pkgconfig pkg-config --libs safeconv
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

install_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --debug | --no-build) install_args+=("$1"); shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
dest="${1:-$ROOT/dist}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)"
name="safeconv-c-$version-linux-$(uname -m)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$ROOT/scripts/install-c.sh" --prefix "$work/$name" "${install_args[@]}" >&2
# Relocatable: the prefix is two levels above the .pc file, wherever the archive is unpacked.
sed -i 's|^prefix=.*$|prefix=${pcfiledir}/../..|' "$work/$name"/lib/pkgconfig/*.pc
# The shared library without symbols C does not link against (the archive keeps its own, for
# the linker); its exported safeconv_* functions stay.
strip --strip-unneeded "$work/$name/lib/libsafeconv.so"

archive="$dest/$name.tar.gz"
tar -C "$work" -czf "$archive" "$name"
log "packed $(basename "$archive") ($(wc -c <"$archive") bytes)"
echo "$archive"
