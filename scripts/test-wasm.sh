#!/usr/bin/env bash
# Tests the WebAssembly build against the emulator, over loopback only:
#   1. tests/wasm.rs with wasm-bindgen-test in Node            (the core over fetch + JS timers)
#   2. tests/wasm.rs with wasm-bindgen-test in headless Chromium (the same, as CORS requests)
#   3. bindings/js/test/api.test.mjs with node --test            (the JavaScript API as pages use it)
#   4. tsc --strict on bindings/js/test/usage.ts                 (the TypeScript declarations)
#   5. bindings/js/test/package.test.mjs: the `npm pack` tarball (scripts/pack-js.sh) installed into
#      a fresh project, imported from Node, bundled with esbuild into a page run in Chromium
#   6. examples/web/test/e2e.test.mjs: the "verify caller" panel driven in Chromium (playwright-core),
#      with an agent login, through safeconv-relay
# On a fresh Debian 12 machine it installs what is missing first: the wasm32 target,
# wasm-bindgen-cli (the version Cargo.toml pins), chromium + chromium-driver, the npm dev packages.
# Ends with `wasm tests: N passed, M failed` and exits non-zero if anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CHROMIUM="${CHROMIUM_BIN:-/usr/bin/chromium}"

# --- what the tests need ---------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
need_apt chromium chromium-driver
for dir in bindings/js examples/web; do
  if [ ! -d "$ROOT/$dir/node_modules" ] || [ "$ROOT/$dir/package-lock.json" -nt "$ROOT/$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in $dir"
    (cd "$ROOT/$dir" && npm ci --no-audit --no-fund >&2)
  fi
done

# --- build (installs the wasm32 target and wasm-bindgen-cli when missing) ---------------------
"$ROOT/scripts/build-js.sh"

log "starting the emulator"
start_emulator
log "emulator at $SAFECONV_EMULATOR_URL"
# The browser example goes through the relay (examples/web/server.mjs starts it).
(cd "$ROOT" && cargo build -q -p safeconv-relay)
export SAFECONV_RELAY_BIN="$TARGET_DIR/debug/safeconv-relay"

passed=0
failed=0
logs="$(mktemp -d)"
trap '_stop_emulators; rm -rf "$logs"' EXIT

# Adds the counts from a cargo test (`test result: ... N passed; M failed`) or node --test
# (`# pass N` / `# fail M`) log; a step that failed without counts counts as one failure.
count() {
  local name="$1" status="$2" file="$3" p f
  p=$(sed -n -e 's/.*test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' -e 's/^# pass \([0-9]*\)$/\1/p' "$file" | awk '{s+=$1} END {print s+0}')
  f=$(sed -n -e 's/.*test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' -e 's/^# fail \([0-9]*\)$/\1/p' "$file" | awk '{s+=$1} END {print s+0}')
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  printf '%s: %d passed, %d failed\n' "$name" "$p" "$f" >&2
}

# Runs a step, showing its output, and counts its results.
step() {
  local name="$1"
  shift
  log "$name"
  local file="$logs/$(echo "$name" | tr -c 'a-zA-Z0-9' '_').log"
  set +e
  "$@" 2>&1 | tee "$file"
  local status=${PIPESTATUS[0]}
  set -e
  count "$name" "$status" "$file"
}

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
wasm_test() {
  (cd "$ROOT" && cargo test -p safeconv --target wasm32-unknown-unknown --test wasm)
}

step "wasm-bindgen-test (node)" wasm_test

profile_dir="$(mktemp -d)"
cat >"$logs/webdriver.json" <<EOF
{
  "goog:chromeOptions": {
    "binary": "$CHROMIUM",
    "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--user-data-dir=$profile_dir"]
  }
}
EOF
chromium_test() {
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$logs/webdriver.json" wasm_test
}
step "wasm-bindgen-test (chromium)" chromium_test
rm -rf "$profile_dir"

step "javascript api (node)" bash -c "cd '$ROOT/bindings/js' && node --test test/api.test.mjs"

typecheck() {
  if (cd "$ROOT/bindings/js" && npx --no-install tsc -p test/tsconfig.json); then
    echo "# pass 1"
  else
    echo "# fail 1"
    return 1
  fi
}
step "typescript declarations" typecheck

package_test() {
  local dest tarball
  dest="$(mktemp -d)"
  tarball="$("$ROOT/scripts/pack-js.sh" "$dest")" &&
    (cd "$ROOT/bindings/js" && SAFECONV_PACKAGE="$tarball" CHROMIUM_BIN="$CHROMIUM" node --test test/package.test.mjs)
  local status=$?
  rm -rf "$dest"
  return $status
}
step "npm package (tarball, fresh project, Node, esbuild + chromium)" package_test

step "e2e examples/web (chromium)" bash -c "cd '$ROOT/examples/web' && CHROMIUM_BIN='$CHROMIUM' node --test test/e2e.test.mjs"

echo
echo "wasm tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
