#!/usr/bin/env bash
# Builds the Python wheel: DEST/safeconv-VERSION-py3-none-PLATFORM.whl (default dest: dist/),
# VERSION being the core's (Cargo.toml). Prints the wheel's path on stdout.
#
#   scripts/pack-python.sh [DEST]
#
# maturin (pinned, in a build virtualenv under target/) builds the UniFFI bridge crate in the
# release profile and generates the module with the workspace's uniffi-bindgen, from the library
# before anything strips it (library mode reads the metadata from its symbol table). The library
# is then stripped inside the wheel (`wheel unpack`, `strip`, `wheel pack`, which rewrites RECORD).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

MATURIN_VERSION=1.16.0
WHEEL_TOOL_VERSION=0.48.0
PY_DIR="$ROOT/bindings/python"

dest="${1:-$ROOT/dist}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

command -v strip >/dev/null 2>&1 && command -v readelf >/dev/null 2>&1 || need_apt binutils
# Debian's python3 makes virtualenvs only with python3-venv (ensurepip).
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt python3-venv

build_env="$TARGET_DIR/python-build"
if ! "$build_env/bin/maturin" --version 2>/dev/null | grep -qx "maturin $MATURIN_VERSION" ||
  ! "$build_env/bin/python" -m wheel version 2>/dev/null | grep -q "$WHEEL_TOOL_VERSION"; then
  log "a build virtualenv with maturin $MATURIN_VERSION and wheel $WHEEL_TOOL_VERSION ($build_env)"
  rm -rf "$build_env"
  python3 -m venv "$build_env"
  "$build_env/bin/pip" install --quiet --disable-pip-version-check \
    "maturin==$MATURIN_VERSION" "wheel==$WHEEL_TOOL_VERSION" >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "maturin build --release (bindings/python: the UniFFI bridge, uniffi-bindgen, the package)"
(cd "$PY_DIR" && "$build_env/bin/maturin" build --release --quiet --out "$work/built" >&2)
built=("$work"/built/safeconv-*.whl)
[ "${#built[@]}" -eq 1 ] && [ -f "${built[0]}" ] || { echo "maturin built no single wheel" >&2; exit 1; }

log "stripping the library in $(basename "${built[0]}")"
"$build_env/bin/python" -m wheel unpack --dest "$work/unpacked" "${built[0]}" >&2
tree=("$work"/unpacked/safeconv-*)
lib="${tree[0]}/safeconv/_native/libsafeconv_uniffi.so"
before=$(stat -c %s "$lib")
strip --strip-unneeded "$lib"
if readelf --section-headers --wide "$lib" | grep -qE '\.symtab|\.debug_'; then
  echo "$lib still has a symbol table or debug information after strip" >&2
  exit 1
fi
log "libsafeconv_uniffi.so: $before → $(stat -c %s "$lib") bytes"
mkdir -p "$work/packed"
"$build_env/bin/python" -m wheel pack --dest-dir "$work/packed" "${tree[0]}" >&2
wheel=("$work"/packed/safeconv-*.whl)

# One version everywhere: the wheel's (from the bridge crate) must be the core's.
core_version="$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "safeconv"))')"
name="$(basename "${wheel[0]}")"
case "$name" in
  "safeconv-$core_version-"*) ;;
  *) echo "$name: not version $core_version (Cargo.toml): align bindings/uniffi/Cargo.toml" >&2; exit 1 ;;
esac

mv -f "${wheel[0]}" "$dest/$name"
log "wheel: $dest/$name ($(stat -c %s "$dest/$name") bytes)"
echo "$dest/$name"
