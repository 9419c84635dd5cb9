# Shared by scripts/test-mobile.sh, test-python.sh, test-kotlin.sh and test-swift.sh. Source it
# after common.sh; do not run it.
#
# Gives: build_mobile_lib [--release] (sets $MOBILE_LIB), build_bindgen, generate_bindings LANG
# OUT_DIR, strip_copy SRC DEST, safeconv_version, check_version WHAT VERSION FIX, ensure_emulator,
# emulator_user, check_console, record_counts NAME PASSED FAILED, and the Swift toolchain helpers
# (ensure_swift_chroot, ...).

# The bridge's cdylib (crate bindings/uniffi, library libsafeconv_uniffi: never the core's own
# libsafeconv, which is the C library). Unstripped either way (library-mode generation reads the
# UniFFI metadata from its symbols): the tests use the debug profile (quicker to build), the
# packages the release profile (`--release`), and ship a stripped copy (strip_copy).
MOBILE_LIB_NAME=libsafeconv_uniffi.so
build_mobile_lib() {
  local profile=debug
  [ "${1:-}" = --release ] && profile=release
  log "building the UniFFI bridge (safeconv-uniffi, $profile)"
  if [ "$profile" = release ]; then
    (cd "$ROOT" && cargo build -p safeconv-uniffi --release >&2)
  else
    (cd "$ROOT" && cargo build -p safeconv-uniffi >&2)
  fi
  MOBILE_LIB="$TARGET_DIR/$profile/$MOBILE_LIB_NAME"
  [ -f "$MOBILE_LIB" ] || { echo "no $MOBILE_LIB after the build" >&2; return 1; }
  export MOBILE_LIB
}

# strip_copy SRC DEST: the library as it ships, without symbols or debug information (what
# loading it needs, the dynamic symbol table, stays).
strip_copy() {
  mkdir -p "$(dirname "$2")"
  rm -f "$2"
  strip --strip-all -o "$2" "$1"
}

# The version every package carries: Cargo.toml's (safeconv::VERSION).
safeconv_version() {
  sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1
}

# check_version WHAT VERSION FIX: fails, saying how to fix it, unless VERSION is Cargo.toml's.
check_version() {
  local expected
  expected="$(safeconv_version)"
  if [ "$2" != "$expected" ]; then
    echo "$1 has version '$2', Cargo.toml $expected; fix it with: $3" >&2
    return 1
  fi
}

# The workspace's uniffi-bindgen (exactly the UniFFI version the library uses).
build_bindgen() {
  log "building uniffi-bindgen"
  (cd "$ROOT" && cargo build -p safeconv-uniffi-bindgen >&2)
  BINDGEN="$TARGET_DIR/debug/uniffi-bindgen"
  export BINDGEN
}

# generate_bindings kotlin|swift|python OUT_DIR: library mode, from $MOBILE_LIB. The settings
# (package and module names, the library's name) come from bindings/uniffi/uniffi.toml, which
# uniffi-bindgen finds through cargo metadata.
generate_bindings() {
  local language="$1" out="$2"
  [ -n "${BINDGEN:-}" ] || build_bindgen
  [ -n "${MOBILE_LIB:-}" ] || build_mobile_lib
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$ROOT" && "$BINDGEN" generate --library "$MOBILE_LIB" --language "$language" \
    --no-format --out-dir "$out" >&2)
  if [ "$language" = kotlin ]; then
    _kotlin_exception_messages "$out/no/safeconv/safeconv.kt"
  fi
}

# UniFFI 0.32 gives each case of a Kotlin exception with fields a `message` that lists them
# ("httpStatus=404, code=…", mozilla/uniffi-rs#1077), and has no option to change it; the
# exception's `toString()` is already the core's wording (the Rust `Display`). This makes
# `message` (and so `localizedMessage`, logs and stack traces) that wording too. It fails, rather
# than shipping the field dump, if the generated code no longer has the shape it expects.
_kotlin_exception_messages() {
  python3 - "$1" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
start = text.index("sealed class SafeconvException")
end = text.index("companion object ErrorHandler", start)
block = text[start:end]
cases = len(re.findall(r"^    class \w+\(", block, re.M))
block, count = re.subn(r'(override val message\n\s*get\(\) = )"[^"\n]*"', r"\1toString()", block)
if "override fun toString()" not in block or count == 0 or count != cases:
    sys.exit(f"{path}: SafeconvException has {cases} cases, {count} field-dump messages and "
             "no Display toString(): the UniFFI template changed; revisit _kotlin_exception_messages")
open(path, "w", encoding="utf-8").write(text[:start] + block + text[end:])
PY
}

# Starts the emulator unless SAFECONV_EMULATOR_URL already points at one (test-mobile.sh
# starts one for all three languages).
ensure_emulator() {
  if [ -z "${SAFECONV_EMULATOR_URL:-}" ]; then
    start_emulator
  fi
  log "emulator at $SAFECONV_EMULATOR_URL"
}

# emulator_user NIN BEHAVIOUR_JSON: sets what the emulated caller does (admin API).
emulator_user() {
  python3 - "$SAFECONV_EMULATOR_URL" "$1" "$2" <<'PY'
import sys, urllib.request
url, nin, body = sys.argv[1:]
request = urllib.request.Request(f"{url}/emulator/users/{nin}", data=body.encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=10).read()
PY
}

# check_console NAME OUTPUT_FILE: an example console's transcript must show a verified caller,
# reached through safeconv-relay (the examples are agent apps), and never the NIN in full.
check_console() {
  local name="$1" transcript="$2"
  if grep -q "Verified: " "$transcript" && grep -q "Read this to the caller: «" "$transcript" &&
    grep -q "through safeconv-relay at http://127.0.0.1:" "$transcript" &&
    ! grep -q "01018010018" "$transcript"; then
    log "$name example: verified a caller"
    return 0
  fi
  echo "$name example: unexpected transcript:" >&2
  sed 's/[0-9]\{11\}/<11 digits>/g' "$transcript" >&2
  return 1
}

# record_counts NAME PASSED FAILED: for test-mobile.sh's closing line.
record_counts() {
  if [ -n "${SAFECONV_MOBILE_COUNTS:-}" ]; then
    echo "$1 $2 $3" >>"$SAFECONV_MOBILE_COUNTS"
  fi
}

# --- Swift 6 for the Swift binding tests --------------------------------------------------
#
# Debian 12 has no Swift toolchain; Debian 13 ("trixie") packages swiftlang 6.0.x. We keep a
# minimal Debian 13 root file system with swiftlang installed OUTSIDE the repository, in
# $SAFECONV_SWIFT_ROOT (default /var/cache/safeconv/swift-trixie), create it once on a fresh
# machine (debootstrap + apt-get, ~3.5 GB, a few minutes) and reuse it afterwards.
#
# Gives: $SWIFT_ROOT, ensure_swift_chroot, swift_chroot_mount, swift_chroot_umount,
# in_swift_chroot CMD...

SWIFT_ROOT="${SAFECONV_SWIFT_ROOT:-/var/cache/safeconv/swift-trixie}"

# The Debian mirror apt is configured with on the host (debootstrap needs one explicitly).
_debian_mirror() {
  local url
  url="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n1 || true)"
  echo "${url:-http://deb.debian.org/debian}"
}

_swift_mounted=0
swift_chroot_mount() {
  if ! mountpoint -q "$SWIFT_ROOT/proc"; then
    mount -t proc proc "$SWIFT_ROOT/proc"
    _swift_mounted=1
  fi
  # The chroot shares the host's network namespace; give it the host's resolver for apt.
  cp -f /etc/resolv.conf "$SWIFT_ROOT/etc/resolv.conf" 2>/dev/null || true
}

swift_chroot_umount() {
  if [ "$_swift_mounted" = 1 ] && mountpoint -q "$SWIFT_ROOT/proc"; then
    umount "$SWIFT_ROOT/proc" || umount -l "$SWIFT_ROOT/proc" || true
  fi
  _swift_mounted=0
}

in_swift_chroot() {
  chroot "$SWIFT_ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 "$@"
}

# Creates (first run) or reuses the Debian 13 root with swiftlang. The caller must have set a
# trap that calls swift_chroot_umount.
ensure_swift_chroot() {
  # /usr/bin/swift is an absolute symlink: test it from inside the root.
  if [ -f "$SWIFT_ROOT/.safeconv-ready" ] && chroot "$SWIFT_ROOT" /usr/bin/test -x /usr/bin/swift; then
    swift_chroot_mount
    return 0
  fi
  need_apt debootstrap
  if [ ! -x "$SWIFT_ROOT/usr/bin/apt-get" ] || [ ! -f "$SWIFT_ROOT/.safeconv-bootstrapped" ]; then
    log "creating a Debian 13 root for Swift in $SWIFT_ROOT (first run only)"
    rm -rf "$SWIFT_ROOT"
    mkdir -p "$SWIFT_ROOT"
    debootstrap --variant=minbase trixie "$SWIFT_ROOT" "$(_debian_mirror)" >&2
    touch "$SWIFT_ROOT/.safeconv-bootstrapped"
  fi
  swift_chroot_mount
  log "installing swiftlang in the Debian 13 root (first run only)"
  in_swift_chroot apt-get update -qq >&2
  in_swift_chroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    swiftlang libc6-dev libstdc++-14-dev ca-certificates >&2
  in_swift_chroot apt-get clean >&2
  in_swift_chroot swift --version >&2
  touch "$SWIFT_ROOT/.safeconv-ready"
}
