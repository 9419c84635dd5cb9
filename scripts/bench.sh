#!/usr/bin/env bash
# Benchmark the SDK against the few dozen lines of Python a user would write instead, side by
# side in one run, and write docs/benchmarks.md.
#
#   scripts/bench.sh                  # N = 100, 1 000, 10 000, then the relay scenario
#   SIZES="100 1000" scripts/bench.sh # fewer sizes
#   SCENARIOS=relay scripts/bench.sh  # only the relay scenario (updates its section of the doc)
#
# For each N and each client (SDK, the baseline, and the baseline with an asyncio.Semaphore
# keeping at most BASELINE_LIMIT requests under way) a fresh emulator process is started on
# 127.0.0.1, pinned to CPU 0; the client runs pinned to CPU 1 (one core, one thread), creates N
# Safe Conversations spread over one poll interval and waits for all of them. Scripted callers
# approve APPROVE_AFTER_MS after creation; the clients poll every INTERVAL_MS.
# bench/collect.py scores both runs from the emulator's counters and session timestamps;
# bench/report.py writes the table. Only loopback is ever contacted; every run is bounded.
#
# The relay scenario: RELAY_SESSIONS (1 000) sessions polled every INTERVAL_MS for
# RELAY_SECONDS, once straight to the emulator and once through safeconv-relay (release build,
# alone on CPU 0; the emulator and the load client on CPU 1), by relay/examples/poll_load.rs.
# bench/relay_report.py writes its section of docs/benchmarks.md (between markers).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SIZES=${SIZES:-"100 1000 10000"}
INTERVAL_MS=${INTERVAL_MS:-1000}
APPROVE_AFTER_MS=${APPROVE_AFTER_MS:-4500}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
# The baseline stops waiting after this long and reports what finished (it may not keep up).
BASELINE_DEADLINE_S=${BASELINE_DEADLINE_S:-120}
# The baseline's variant: at most this many requests under way (an asyncio.Semaphore).
BASELINE_LIMIT=${BASELINE_LIMIT:-100}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${BENCH_OUT:-$TARGET_DIR/bench-results}
DOC=${BENCH_DOC:-$ROOT/docs/benchmarks.md}
PYTHON=${PYTHON:-python3}
SCENARIOS=${SCENARIOS:-"sdk relay"}
RELAY_SESSIONS=${RELAY_SESSIONS:-1000}
RELAY_SECONDS=${RELAY_SECONDS:-20}

log() { printf '\n== %s\n' "$*" >&2; }

# 10 000 sessions may hold a few thousand sockets at once on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 32768 ]; then
    echo "warning: only $(ulimit -n) file descriptors; N = 10 000 may run out" >&2
fi

if ! "$PYTHON" -c 'import httpx' 2>/dev/null; then
    log "installing httpx for the Python baseline"
    "$PYTHON" -m pip install --quiet httpx
fi

log "building (release)"
cargo build --release -p safeconv-emulator --bin safeconv-emulator
cargo build --release -p safeconv --example bench
EMULATOR=$TARGET_DIR/release/safeconv-emulator
BENCH=$TARGET_DIR/release/examples/bench
if [[ " $SCENARIOS " == *" relay "* ]]; then
    cargo build --release -p safeconv-relay --bin safeconv-relay --example poll_load
fi
RELAY=$TARGET_DIR/release/safeconv-relay
POLL_LOAD=$TARGET_DIR/release/examples/poll_load

mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

# CPU pinning: the emulator on CPU 0, the client alone on CPU 1.
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_EMULATOR=(taskset -c 0)
    PIN_CLIENT=(taskset -c 1)
else
    PIN_EMULATOR=()
    PIN_CLIENT=()
fi

EMULATOR_PID=
stop_emulator() {
    if [ -n "$EMULATOR_PID" ]; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
        EMULATOR_PID=
    fi
}
RELAY_PID=
stop_relay() {
    if [ -n "$RELAY_PID" ]; then
        kill "$RELAY_PID" 2>/dev/null || true
        wait "$RELAY_PID" 2>/dev/null || true
        RELAY_PID=
    fi
}
trap 'stop_relay; stop_emulator' EXIT

start_emulator() {
    local log_file=$OUT/emulator.out
    : >"$log_file"
    "${PIN_EMULATOR[@]}" "$EMULATOR" --approve-after-ms "$APPROVE_AFTER_MS" --seed 1 \
        >"$log_file" 2>&1 &
    EMULATOR_PID=$!
    for _ in $(seq 1 100); do
        URL=$(sed -n 's/^SAFECONV_EMULATOR_URL=//p' "$log_file")
        [ -n "$URL" ] && return 0
        sleep 0.1
    done
    echo "the emulator did not start" >&2
    cat "$log_file" >&2
    exit 1
}

# The baseline may not keep up (httpx's pool slows to a crawl with thousands of requests
# queued, and then its own deadline cannot fire either): stop it from outside, keeping what
# /proc says about it, and report it as unfinished.
run_python() { # report-file args...
    local report=$1
    shift
    "${PIN_CLIENT[@]}" "$PYTHON" bench/baseline.py "$@" --deadline-s "$BASELINE_DEADLINE_S" \
        >"$report" &
    local pid=$! waited=0 limit=$((BASELINE_DEADLINE_S + 30))
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$limit" ]; do
        sleep 1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        local hwm ticks cpu
        hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
        ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
        cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}')
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        printf '{"client": "%s", "sessions_requested": %s, "completed": 0, "succeeded": 0, "errors": %s, "error_kinds": ["stopped from outside after %s s: the event loop never came back to its own deadline"], "interval_ms": %s, "wall_s": %s, "cpu_s": %s, "rss_before_kib": null, "rss_after_kib": null, "hwm_kib": %s, "sessions": []}\n' \
            "$CLIENT_NAME" "$N" "$N" "$waited" "$INTERVAL_MS" "$waited" "$cpu" "$hwm" >"$report"
    else
        wait "$pid"
    fi
}

run_one() { # client N
    local client=$1 n=$2 report=$OUT/$1-$2.json
    start_emulator
    log "$client, N = $n ($URL)"
    local args=(--url "$URL" --sessions "$n" --interval-ms "$INTERVAL_MS")
    N=$n
    case "$client" in
        sdk) timeout "$RUN_TIMEOUT" "${PIN_CLIENT[@]}" "$BENCH" "${args[@]}" >"$report" ;;
        baseline)
            CLIENT_NAME=python-httpx run_python "$report" "${args[@]}" ;;
        baseline-limited)
            CLIENT_NAME=python-httpx-limit$BASELINE_LIMIT run_python "$report" "${args[@]}" \
                --max-in-flight "$BASELINE_LIMIT" ;;
    esac
    "$PYTHON" bench/collect.py --url "$URL" --report "$report" \
        --approve-after-ms "$APPROVE_AFTER_MS" --label "N=$n" | tee -a "$RESULTS" >&2
    stop_emulator
}

sdk_scenario() {
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $SIZES; do
    run_one sdk "$n"
    run_one baseline "$n"
    run_one baseline-limited "$n"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

log "library sizes"
SIZES_JSON=$OUT/sizes.json
{
    # Native: with the C ABI (what a .so/.a is for), else the default features.
    native_how="cargo build -p safeconv --lib --release --features c-api"
    if ! cargo build -p safeconv --lib --release --features c-api >&2; then
        native_how="cargo build -p safeconv --lib --release (the c-api feature did not build)"
        cargo build -p safeconv --lib --release >&2
    fi
    so=$TARGET_DIR/release/libsafeconv.so
    a=$TARGET_DIR/release/libsafeconv.a
    strip -o "$OUT/libsafeconv.stripped.so" "$so"
    strip --strip-debug -o "$OUT/libsafeconv.stripped.a" "$a"
    # wasm: the JavaScript package (bindings/js, the bridge crate) through wasm-bindgen when
    # it is there; otherwise the core alone.
    wasm=
    if [ -f bindings/js/Cargo.toml ] &&
        (cd bindings/js && cargo build --target wasm32-unknown-unknown --release >&2); then
        wasm=$TARGET_DIR/wasm32-unknown-unknown/release/safeconv_js.wasm
        wasm_how="bindings/js (core + JS bridge), cargo build --target wasm32-unknown-unknown --release"
        if command -v wasm-bindgen >/dev/null &&
            wasm-bindgen --target web --out-dir "$OUT/js" --out-name safeconv --no-typescript \
                --remove-name-section --remove-producers-section "$wasm" >&2; then
            wasm=$OUT/js/safeconv_bg.wasm
            wasm_how="$wasm_how, then wasm-bindgen --target web (safeconv_bg.wasm, without the JS glue)"
        fi
    fi
    if [ -z "$wasm" ]; then
        cargo build -p safeconv --lib --release --target wasm32-unknown-unknown >&2
        wasm=$TARGET_DIR/wasm32-unknown-unknown/release/safeconv.wasm
        wasm_how="cargo build -p safeconv --lib --release --target wasm32-unknown-unknown (the core, no features)"
    fi
    printf '{"so_stripped": %s, "so_unstripped": %s, "a": %s, "a_strip_debug": %s, "wasm": %s, "wasm_gzip": %s, "native_how": "%s", "wasm_how": "%s"}\n' \
        "$(stat -c %s "$OUT/libsafeconv.stripped.so")" "$(stat -c %s "$so")" \
        "$(stat -c %s "$a")" "$(stat -c %s "$OUT/libsafeconv.stripped.a")" \
        "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)" "$native_how" "$wasm_how"
} >"$SIZES_JSON"
cat "$SIZES_JSON" >&2

MACHINE_JSON=$OUT/machine.json
"$PYTHON" - "$MACHINE_JSON" "$LOAD_BEFORE" "$LOAD_AFTER" "$INTERVAL_MS" "$APPROVE_AFTER_MS" \
    "${#PIN_CLIENT[@]}" <<'EOF'
import json, os, platform, subprocess, sys
out, load_before, load_after, interval, approve, pinned = sys.argv[1:]
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
json.dump({
    "cpu": model, "cpus": os.cpu_count(), "memory": mem, "kernel": platform.release(),
    "rustc": sh("rustc", "--version"), "python": platform.python_version(),
    "load_before": load_before, "load_after": load_after,
    "interval_ms": int(interval), "approve_after_ms": int(approve), "pinned": pinned != "0",
}, open(out, "w"))
EOF

"$PYTHON" bench/report.py --results "$RESULTS" --sizes "$SIZES_JSON" --machine "$MACHINE_JSON" \
    --out "$DOC"
log "wrote $DOC"
}

# N sessions polled straight to the emulator, then through the relay; one JSON line each.
relay_scenario() {
    local results=$OUT/relay.jsonl dir
    : >"$results"
    local saved_approve=$APPROVE_AFTER_MS saved_pin=("${PIN_EMULATOR[@]}")
    # Callers who take their time: every session stays running while it is polled.
    APPROVE_AFTER_MS=3600000
    if [ "${#PIN_CLIENT[@]}" -gt 0 ]; then PIN_EMULATOR=(taskset -c 1); fi
    local load=(--sessions "$RELAY_SESSIONS" --seconds "$RELAY_SECONDS" --interval-ms "$INTERVAL_MS"
        --clk-tck "$(getconf CLK_TCK)")

    start_emulator
    log "relay scenario: $RELAY_SESSIONS sessions straight to the emulator ($URL)"
    timeout "$RUN_TIMEOUT" "${PIN_CLIENT[@]}" "$POLL_LOAD" --url "$URL" \
        --token-url "$URL/auth/open/connect/token" "${load[@]}" |
        "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); d["path"]="direct"; print(json.dumps(d))' >>"$results"
    stop_emulator

    start_emulator
    dir=$(mktemp -d)
    local key
    "$RELAY" new-agent-key bench-agent >"$dir/new-key"
    key=$(sed -n 1p "$dir/new-key")
    sed -n 2p "$dir/new-key" >"$dir/agents.keys"
    cat >"$dir/relay.toml" <<TOML
[policy]
# Just under the clients' interval: every poll is proxied to Signicat (none from the cache).
min_poll_interval_ms = $((INTERVAL_MS * 9 / 10))
[limits]
per_agent = 1000000
TOML
    local pin_relay=()
    if [ "${#PIN_CLIENT[@]}" -gt 0 ]; then pin_relay=(taskset -c 0); fi
    SAFECONV_BASE_URL=$URL SAFECONV_ACCOUNT_ID=a-spge-emulator SAFECONV_CLIENT_ID=safeconv-demo-client \
        SAFECONV_CLIENT_SECRET=safeconv-demo-secret SAFECONV_RELAY_LOG=warn \
        "${pin_relay[@]}" "$RELAY" --listen 127.0.0.1:0 --config "$dir/relay.toml" \
        --agent-keys "$dir/agents.keys" --database-url "sqlite://$dir/relay.db" \
        >"$dir/relay.out" 2>"$OUT/relay.log" &
    RELAY_PID=$!
    local relay_url=
    for _ in $(seq 1 100); do
        relay_url=$(sed -n 's/^SAFECONV_RELAY_URL=//p' "$dir/relay.out")
        [ -n "$relay_url" ] && break
        sleep 0.1
    done
    [ -n "$relay_url" ] || { echo "the relay did not start" >&2; cat "$OUT/relay.log" >&2; exit 1; }
    log "relay scenario: $RELAY_SESSIONS sessions through the relay ($relay_url)"
    timeout "$RUN_TIMEOUT" "${PIN_CLIENT[@]}" "$POLL_LOAD" --url "$relay_url" --bearer "$key" \
        --relay-pid "$RELAY_PID" "${load[@]}" >"$dir/load.json"
    local reads
    reads=$(curl -s "$relay_url/metrics" | sed -n 's/^safeconv_relay_session_reads_total{source="\([a-z]*\)"} \([0-9]*\)$/\1=\2/p' | tr '\n' ' ')
    "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["path"]="relay"; d["reads"]=dict(kv.split("=") for kv in sys.argv[2].split()); print(json.dumps(d))' \
        "$dir/load.json" "$reads" >>"$results"
    stop_relay
    stop_emulator
    rm -rf "$dir"
    APPROVE_AFTER_MS=$saved_approve
    PIN_EMULATOR=("${saved_pin[@]}")
    cat "$results" >&2
    "$PYTHON" bench/relay_report.py --results "$results" --doc "$DOC" --pinned "${#PIN_CLIENT[@]}"
    log "wrote the relay section of $DOC"
}

if [[ " $SCENARIOS " == *" sdk "* ]]; then sdk_scenario; fi
if [[ " $SCENARIOS " == *" relay "* ]]; then relay_scenario; fi
