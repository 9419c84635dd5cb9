#!/usr/bin/env bash
# The C API's tests, from a fresh Debian 12 machine to a verdict:
#   1. installs what is missing (gcc, g++, valgrind, pkg-config, cmake);
#   2. checks that include/safeconv.h matches src/ffi (build.rs generates it with the pinned
#      cbindgen build-dependency and fails the build on any difference);
#   3. builds libsafeconv (--features c-api) and runs the bridge's Rust unit tests (panics,
#      result mapping);
#   4. compiles the C tests with -std=c11 -Wall -Wextra -Werror -pedantic, and the header as
#      C++17;
#   5. starts the emulators (plain HTTP; HTTPS behind the test proxy; HTTPS with a certificate
#      for another host, and with an expired one) and runs the C tests plainly, under Valgrind
#      (no leaks, no errors) and with AddressSanitizer (+ LeakSanitizer, UBSan);
#   6. packs the library (scripts/pack-c.sh), unpacks the archive, runs the C tests built through
#      its pkg-config file, and builds the examples through pkg-config
#      (shared and static) and CMake's find_package, then runs them against the emulator,
#      Ctrl-C included.
# Ends with "C tests: N passed, M failed" (N counts every check of every run) and exits non-zero
# on any failure.
#
# Environment: CARGO_TARGET_DIR (default ./target); SAFECONV_C_PROFILE=release to test the
# release build (default debug: faster to build, better traces); SAFECONV_C_SKIP_VALGRIND=1 or
# SAFECONV_C_SKIP_ASAN=1 to skip a run.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

profile="${SAFECONV_C_PROFILE:-debug}"
case "$profile" in debug|release) ;; *) echo "SAFECONV_C_PROFILE must be debug or release" >&2; exit 2 ;; esac

passed=0
failed=0
failures=()
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1" >&2; }
pass() { passed=$((passed + 1)); }

log "installing missing tools"
need_apt gcc g++ libc6-dev libc6-dbg make binutils valgrind pkg-config cmake

log "checking include/safeconv.h against src/ffi"
"$ROOT/scripts/gen-header.sh" --verify

cd "$ROOT"
log "building libsafeconv ($profile, --features c-api)"
cargo_profile=()
[ "$profile" = release ] && cargo_profile=(--release)
cargo build -p safeconv --features c-api "${cargo_profile[@]}"
libdir="$TARGET_DIR/$profile"

if [ "${SAFECONV_C_SKIP_RUST:-}" != 1 ]; then
  log "the bridge's Rust unit tests"
  if cargo test -p safeconv --features c-api --lib ffi 2>&1 | tee "$TARGET_DIR/c-rust-tests.log" | tail -n 3; then
    :
  fi
  if grep -q "^test result: ok" "$TARGET_DIR/c-rust-tests.log"; then
    echo "Rust FFI unit tests: $(sed -n 's/^test result: ok. \([0-9]*\) passed.*/\1/p' "$TARGET_DIR/c-rust-tests.log") passed"
  else
    fail "Rust FFI unit tests"
  fi
fi

out="$TARGET_DIR/c-tests"
rm -rf "$out"
mkdir -p "$out"

log "checking that the library exports exactly the header's functions"
nm -D --defined-only "$libdir/libsafeconv.so" | awk '$2 == "T" && $3 ~ /^safeconv_/ {print $3}' | sort >"$out/exported.txt"
grep -oE '\bsafeconv_[a-z0-9_]+\(' "$ROOT/include/safeconv.h" | tr -d '(' | sort -u >"$out/declared.txt"
if diff "$out/declared.txt" "$out/exported.txt" >"$out/symbols.diff"; then
  pass
  echo "  ok - $(wc -l <"$out/exported.txt") functions, the same in the header and the library"
else
  cat "$out/symbols.diff" >&2
  fail "exported symbols differ from the header"
fi
CFLAGS_STRICT=(-std=c11 -Wall -Wextra -Werror -pedantic)
CXXFLAGS_STRICT=(-std=c++17 -Wall -Wextra -Werror -pedantic)
sources=("$ROOT"/tests/c/*.c)
link=(-L"$libdir" -lsafeconv -Wl,-rpath,"$libdir" -lpthread)

log "compiling the C tests (C11, strict) and the header as C++17"
gcc "${CFLAGS_STRICT[@]}" -g -O1 -I"$ROOT/include" "${sources[@]}" "${link[@]}" -o "$out/c_tests"
gcc "${CFLAGS_STRICT[@]}" -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
  -fno-sanitize-recover=undefined -I"$ROOT/include" "${sources[@]}" "${link[@]}" -o "$out/c_tests_asan"
g++ "${CXXFLAGS_STRICT[@]}" -g -I"$ROOT/include" "$ROOT/tests/c/header_cpp.cpp" "${link[@]}" -o "$out/header_cpp"
# The header alone, in C99 as well (older toolchains).
printf '#include "safeconv.h"\nint main(void) { return (int)safeconv_abi_version() != SAFECONV_ABI_VERSION; }\n' > "$out/header_c99.c"
gcc -std=c99 -Wall -Wextra -Werror -pedantic -I"$ROOT/include" -c "$out/header_c99.c" -o "$out/header_c99.o"

# The tests talk to loopback only: no proxy from this machine's environment may carry them (the
# proxy tests set the variables they test themselves).
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy

log "starting the emulators"
# The HTTPS and proxy tests (tests/c/test_tls.c) need emulators of their own, which they find
# in SAFECONV_C_*: one serving HTTPS behind a test proxy that wants credentials, and one for
# each defective certificate (each with its own test CA). The plain emulator comes last and
# keeps SAFECONV_EMULATOR_URL.
export SAFECONV_C_PROXY_CREDENTIALS="c-agent:c-proxy-secret"
start_emulator --tls --proxy --proxy-credentials "$SAFECONV_C_PROXY_CREDENTIALS" \
  --approve-after-ms 200
export SAFECONV_C_TLS_URL="$SAFECONV_EMULATOR_URL" SAFECONV_C_TLS_CA="$SAFECONV_EMULATOR_CA" \
  SAFECONV_C_PROXY_URL="$SAFECONV_PROXY_URL"
start_emulator --tls-certificate other-host
export SAFECONV_C_OTHER_HOST_URL="$SAFECONV_EMULATOR_URL" SAFECONV_C_OTHER_HOST_CA="$SAFECONV_EMULATOR_CA"
start_emulator --tls-certificate expired
export SAFECONV_C_EXPIRED_URL="$SAFECONV_EMULATOR_URL" SAFECONV_C_EXPIRED_CA="$SAFECONV_EMULATOR_CA"
unset SAFECONV_EMULATOR_CA SAFECONV_PROXY_URL
start_emulator --min-session-lifetime 1
echo "emulator at $SAFECONV_EMULATOR_URL; HTTPS at $SAFECONV_C_TLS_URL behind the proxy" \
  "$SAFECONV_C_PROXY_URL; other-host $SAFECONV_C_OTHER_HOST_URL; expired $SAFECONV_C_EXPIRED_URL"

# Runs one test binary (with a wrapper), adds its "N passed, M failed" to the totals, and
# counts a non-zero exit (a crash, a leak, a sanitizer report) as a failure of its own.
run_suite() {
  local name="$1"; shift
  local logfile="$out/$name.log"
  log "C tests: $name"
  local rc=0
  "$@" >"$logfile" 2>&1 || rc=$?
  grep -E '^(ok|not ok) - ' "$logfile" | sed 's/^/  /' || true
  local summary
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logfile" | tail -n1 || true)"
  if [ -z "$summary" ]; then
    tail -n 40 "$logfile" >&2
    fail "$name: no summary (exit $rc)"
    return
  fi
  local p f
  p="$(echo "$summary" | cut -d' ' -f1)"
  f="$(echo "$summary" | cut -d' ' -f3)"
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$f" -gt 0 ] && failures+=("$name: $f test(s)")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    grep -E 'ERROR SUMMARY|definitely lost|ERROR: |runtime error' "$logfile" >&2 || tail -n 40 "$logfile" >&2
    fail "$name: exit $rc"
  elif [ "$f" -gt 0 ]; then
    grep -E 'FAILED|last error' "$logfile" >&2 || true
  fi
  echo "  $name: $summary (exit $rc)"
}

run_suite plain timeout 300 "$out/c_tests"
run_suite header-cpp17 timeout 60 "$out/header_cpp"
if [ "${SAFECONV_C_SKIP_VALGRIND:-}" != 1 ]; then
  # Leaks need no suppressions: the library frees everything it allocates once its clients are
  # freed (tokio's worker threads are joined by safeconv_client_free), so "All heap blocks were
  # freed" is expected. Only definite leaks and memory errors fail the run. The one file of
  # suppressions is for HTTPS: Memcheck cannot follow ring's AES-GCM assembly, so the tags of
  # TLS records look uninitialised to it (tests/c/valgrind.supp says why that is false).
  # Valgrind slows every instruction down: latency bounds (100 ms from a cancel to the end of a
  # blocking wait) are ten times as long there; the plain and ASan runs keep them as they are.
  SAFECONV_C_TIME_SCALE=10 run_suite valgrind timeout 900 valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions="$ROOT/tests/c/valgrind.supp" --error-exitcode=1 --num-callers=40 "$out/c_tests"
fi
if [ "${SAFECONV_C_SKIP_ASAN:-}" != 1 ]; then
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    run_suite asan timeout 300 "$out/c_tests_asan"
fi

log "the release archive (scripts/pack-c.sh), unpacked as a user does, and the tests built from it"
pack_args=(--no-build)
[ "$profile" = debug ] && pack_args+=(--debug)
archive="$("$ROOT/scripts/pack-c.sh" "${pack_args[@]}" "$out/dist")"
mkdir -p "$out/unpacked"
tar -xzf "$archive" -C "$out/unpacked"
prefix="$(echo "$out"/unpacked/safeconv-c-*)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# The whole C suite once more, compiled and linked only through the archive's pkg-config file.
# shellcheck disable=SC2046
gcc "${CFLAGS_STRICT[@]}" -g -O1 "${sources[@]}" $(pkg-config --cflags --libs safeconv) -lpthread \
  -o "$out/c_tests_packaged"
if ldd "$out/c_tests_packaged" | grep -q "libsafeconv.so => $prefix/"; then
  run_suite packaged timeout 300 "$out/c_tests_packaged"
else
  ldd "$out/c_tests_packaged" >&2
  fail "the tests built from the archive do not load its libsafeconv.so"
fi
example_check() {
  local name="$1"; shift
  if "$@"; then pass; echo "  ok - example: $name"; else fail "example: $name"; fi
}
# shellcheck disable=SC2046
example_check "agent_console builds with pkg-config (shared)" \
  gcc "${CFLAGS_STRICT[@]}" "$ROOT/examples/c/agent_console.c" $(pkg-config --cflags --libs safeconv) \
  -o "$out/agent_console"
# shellcheck disable=SC2046
example_check "agent_console builds with pkg-config (static)" \
  gcc "${CFLAGS_STRICT[@]}" "$ROOT/examples/c/agent_console.c" $(pkg-config --cflags --libs safeconv-static) \
  -o "$out/agent_console_static"
example_check "the static build does not need libsafeconv.so" \
  bash -c "! ldd '$out/agent_console_static' | grep -q libsafeconv"
example_check "the C++ example builds with CMake find_package (shared and static)" \
  bash -c "cmake -S '$ROOT/examples/cpp' -B '$out/cpp-example' -DCMAKE_PREFIX_PATH='$prefix' \
             -DCMAKE_CXX_FLAGS='${CXXFLAGS_STRICT[*]}' >'$out/cmake.log' 2>&1 \
           && cmake --build '$out/cpp-example' >>'$out/cmake.log' 2>&1 || { tail -n 30 '$out/cmake.log'; false; }"

log "running the examples against the emulator"
console_verifies() {
  printf '123\n01018010018\n17029010021\n' | timeout 60 "$out/agent_console_static" >"$out/console.log" 2>&1 &&
    grep -q 'Not a valid national identity number' "$out/console.log" &&
    grep -q 'Read this to the caller' "$out/console.log" &&
    grep -q 'status: WAITING_FOR_USER' "$out/console.log" &&
    grep -q 'VERIFIED: .*born 1980-01-01' "$out/console.log" &&
    grep -q 'NOT VERIFIED: the caller declined' "$out/console.log" &&
    ! grep -q '01018010018' "$out/console.log" || { cat "$out/console.log"; false; }
}
console_ctrl_c_cancels() {
  "$out/agent_console" >"$out/console-sigint.log" 2>&1 < <(printf '24047510003\n'; sleep 4) &
  local pid=$!
  for _ in $(seq 1 100); do
    grep -q 'status: WAITING_FOR_USER' "$out/console-sigint.log" && break
    sleep 0.1
  done
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" || true
  grep -q 'Cancelling' "$out/console-sigint.log" &&
    grep -q 'NOT VERIFIED: the session was cancelled' "$out/console-sigint.log" ||
    { cat "$out/console-sigint.log"; false; }
}
# GET /proxy/counters on the test proxy, by bash alone: the number of tunnels it opened.
proxy_tunnels() {
  local port="${SAFECONV_C_PROXY_URL##*:}" counters
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /proxy/counters HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  counters="$(cat <&3)"
  exec 3<&-
  sed -n 's/.*"tunnelsOpened":\([0-9]*\).*/\1/p' <<<"$counters"
}
console_verifies_through_the_proxy() {
  local before after user="${SAFECONV_C_PROXY_CREDENTIALS%%:*}" password="${SAFECONV_C_PROXY_CREDENTIALS#*:}"
  before="$(proxy_tunnels)"
  printf '01018010018\n' | SAFECONV_EMULATOR_URL="$SAFECONV_C_TLS_URL" SAFECONV_CA_FILE="$SAFECONV_C_TLS_CA" \
    SAFECONV_PROXY="$SAFECONV_C_PROXY_URL" SAFECONV_PROXY_USER="$user" SAFECONV_PROXY_PASSWORD="$password" \
    SAFECONV_NO_PROXY="" timeout 60 "$out/agent_console_static" >"$out/console-https.log" 2>&1 &&
    grep -q 'VERIFIED: .*born 1980-01-01' "$out/console-https.log" &&
    ! grep -q "$password" "$out/console-https.log" || { cat "$out/console-https.log"; return 1; }
  after="$(proxy_tunnels)"
  [ -n "$before" ] && [ "$after" -gt "$before" ] || { echo "tunnels opened: $before, then $after"; return 1; }
}
cpp_async_verifies() {
  timeout 60 "$out/cpp-example/async_verify" 01018010018 >"$out/cpp.log" 2>&1 &&
    timeout 60 "$out/cpp-example/async_verify_static" 01018010018 >>"$out/cpp.log" 2>&1 &&
    [ "$(grep -c 'VERIFIED: ' "$out/cpp.log")" = 2 ] && grep -q 'status: SUCCESS' "$out/cpp.log" ||
    { cat "$out/cpp.log"; false; }
}
example_check "agent_console verifies a caller and refuses a bad number" console_verifies
example_check "agent_console: Ctrl-C cancels the session" console_ctrl_c_cancels
example_check "agent_console verifies over HTTPS with a CA file, through the proxy" \
  console_verifies_through_the_proxy
example_check "the C++ async example verifies a caller (shared and static)" cpp_async_verifies

echo
if [ "$failed" -gt 0 ]; then
  printf 'failures:\n'
  printf '  %s\n' "${failures[@]}"
fi
echo "C tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
