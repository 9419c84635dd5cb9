# Shared by the scripts/test-*.sh scripts. Source it; do not run it.
# Gives: $ROOT, $TARGET_DIR, log(), need_apt PKG..., start_emulator [ARGS...] (exports
# SAFECONV_EMULATOR_URL, and SAFECONV_EMULATOR_CA with --tls and SAFECONV_PROXY_URL with
# --proxy; the emulator is stopped when the script exits).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\n==> %s\n' "$*" >&2; }

# Installs Debian packages that are missing (apt-get update once per run).
need_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ -z "${SAFECONV_APT_UPDATED:-}" ]; then
    apt-get update -qq >&2
    export SAFECONV_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Installs a cargo CLI at an exact version unless that version is already installed.
need_cargo_tool() {
  local crate="$1" version="$2" binary="${3:-$1}"
  if "$binary" --version 2>/dev/null | grep -q "$version"; then return 0; fi
  log "installing $crate $version"
  cargo install "$crate" --version "$version" --force >&2
}

_emulator_pids=()
_stop_emulators() {
  for pid in "${_emulator_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap _stop_emulators EXIT

# Starts the Signicat emulator on a random loopback port and exports SAFECONV_EMULATOR_URL
# (its last line on stdout), plus SAFECONV_EMULATOR_CA and SAFECONV_PROXY_URL when printed.
start_emulator() {
  (cd "$ROOT" && cargo build -q -p safeconv-emulator)
  local out
  out="$(mktemp)"
  "$TARGET_DIR/debug/safeconv-emulator" --port 0 "$@" >"$out" 2>/dev/null &
  _emulator_pids+=("$!")
  for _ in $(seq 1 100); do
    if grep -q '^SAFECONV_EMULATOR_URL=' "$out"; then
      SAFECONV_EMULATOR_URL="$(sed -n 's/^SAFECONV_EMULATOR_URL=//p' "$out" | head -n1)"
      export SAFECONV_EMULATOR_URL
      local line
      for line in SAFECONV_EMULATOR_CA SAFECONV_PROXY_URL; do
        if grep -q "^$line=" "$out"; then
          export "$line=$(sed -n "s/^$line=//p" "$out" | head -n1)"
        fi
      done
      return 0
    fi
    sleep 0.1
  done
  echo "the emulator did not start" >&2
  return 1
}

# Starts safeconv-relay on a random loopback port in front of $SAFECONV_EMULATOR_URL (the
# emulator's demo client holds the Signicat secret there, as in production the relay does), with
# one agent, and exports SAFECONV_RELAY_URL and SAFECONV_AGENT_KEY (that agent's key: all an
# agent app holds). Its database lives in a temp dir; it is stopped when the script exits.
start_relay() {
  : "${SAFECONV_EMULATOR_URL:?start_relay needs a running emulator}"
  (cd "$ROOT" && cargo build -q -p safeconv-relay)
  local relay="$TARGET_DIR/debug/safeconv-relay" dir key_and_line
  dir="$(mktemp -d)"
  key_and_line="$("$relay" new-agent-key example.agent)"
  SAFECONV_AGENT_KEY="$(sed -n 1p <<<"$key_and_line")"
  sed -n 2p <<<"$key_and_line" >"$dir/agents.keys"
  # Against the loopback emulator the examples poll faster than Signicat allows.
  printf '[policy]\nmin_poll_interval_ms = 200\n' >"$dir/relay.toml"
  SAFECONV_BASE_URL="$SAFECONV_EMULATOR_URL" SAFECONV_ACCOUNT_ID=a-spge-emulator \
    SAFECONV_CLIENT_ID=safeconv-demo-client SAFECONV_CLIENT_SECRET=safeconv-demo-secret \
    "$relay" --listen 127.0.0.1:0 --config "$dir/relay.toml" --agent-keys "$dir/agents.keys" \
    --database-url "sqlite://$dir/relay.db" >"$dir/stdout" 2>"$dir/stderr" &
  _emulator_pids+=("$!")
  for _ in $(seq 1 100); do
    if grep -q '^SAFECONV_RELAY_URL=' "$dir/stdout"; then
      SAFECONV_RELAY_URL="$(sed -n 's/^SAFECONV_RELAY_URL=//p' "$dir/stdout" | head -n1)"
      export SAFECONV_RELAY_URL SAFECONV_AGENT_KEY
      return 0
    fi
    sleep 0.1
  done
  cat "$dir/stderr" >&2
  echo "safeconv-relay did not start" >&2
  return 1
}
