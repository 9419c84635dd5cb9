#!/usr/bin/env bash
# Benchmark the SDK against the few dozen lines of Python a user would write instead, side by
# side in one run, and write docs/benchmarks.md.
#
#   scripts/bench.sh                  # the SDK at N = 100, 1 000, 10 000, then the relay (~25 min)
#   SIZES="100 1000" scripts/bench.sh # fewer sizes for the SDK
#   SCENARIOS=relay scripts/bench.sh  # only the relay scenario (~5 min; updates its section of the doc)
#   SCENARIOS=relay RELAY_SIZES=1000 RELAY_PATHS="direct sqlite" scripts/bench.sh   # a part of it
#
# For each N and each client (SDK, the baseline, and the baseline with an asyncio.Semaphore
# keeping at most BASELINE_LIMIT requests under way) a fresh emulator process is started on
# 127.0.0.1, pinned to CPU 0; the client runs pinned to CPU 1 (one core, one thread), creates N
# Safe Conversations spread over one poll interval and waits for all of them. Scripted callers
# approve APPROVE_AFTER_MS after creation; the clients poll every INTERVAL_MS.
# bench/collect.py scores both runs from the emulator's counters and session timestamps;
# bench/report.py writes the table. Only loopback is ever contacted; every run is bounded.
#
# The relay scenario (see relay_scenario below): N in RELAY_SIZES (1 000 and 10 000) sessions
# polled straight to the emulator, through one relay on SQLite and through two relays on one
# PostgreSQL (a throwaway cluster, started and stopped here), by relay/examples/poll_load.rs:
# paced (each session every INTERVAL_MS for RELAY_SECONDS), then saturated
# (RELAY_SATURATE_CONCURRENCY polls always under way for RELAY_SATURATE_SECONDS). Every relay is
# the release build, alone on CPU 1. bench/relay_report.py writes its section of
# docs/benchmarks.md (between markers).
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
RELAY_SIZES=${RELAY_SIZES:-"1000 10000"}
RELAY_PATHS=${RELAY_PATHS:-"direct sqlite postgres"}
RELAY_SECONDS=${RELAY_SECONDS:-20}
RELAY_SATURATE_SECONDS=${RELAY_SATURATE_SECONDS:-10}
RELAY_SATURATE_CONCURRENCY=${RELAY_SATURATE_CONCURRENCY:-64}
# The paced phase offers at most this many polls a second: N sessions are each polled every
# max(INTERVAL_MS, N / RELAY_PACED_RATE s), so 1 000 every second and 10 000 every 2.5 s, a
# rate one relay core serves with room to spare; the saturation phase finds the ceiling.
RELAY_PACED_RATE=${RELAY_PACED_RATE:-4000}
# Run the bench's processes at this nice value (e.g. -10 as root, so that other work on a shared
# machine yields to them); 0 leaves priorities alone.
BENCH_NICE=${BENCH_NICE:-0}

log() { printf '\n== %s\n' "$*" >&2; }

# 10 000 sessions may hold a few thousand sockets at once on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 32768 ]; then
    echo "warning: only $(ulimit -n) file descriptors; N = 10 000 may run out" >&2
fi

if [[ " $SCENARIOS " == *" sdk "* ]] && ! "$PYTHON" -c 'import httpx' 2>/dev/null; then
    log "installing httpx for the Python baseline"
    "$PYTHON" -m pip install --quiet httpx
fi

log "building (release)"
cargo build --release -p safeconv-emulator --bin safeconv-emulator
if [[ " $SCENARIOS " == *" sdk "* ]]; then
    cargo build --release -p safeconv --example bench
fi
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

# The relay scenario: for each N in RELAY_SIZES and each path in RELAY_PATHS (`direct`: straight
# to the emulator; `sqlite`: one relay on SQLite; `postgres`: two relays on one PostgreSQL, the
# load split evenly between them), a fresh emulator and N sessions created; with two relays,
# each session's first poll on the instance that did not create it (its owner read from the
# database); then poll_load's paced phase (each session every INTERVAL_MS or, past
# RELAY_PACED_RATE polls a second, less often, for RELAY_SECONDS) and its saturation phase
# (RELAY_SATURATE_CONCURRENCY polls always under way for RELAY_SATURATE_SECONDS). One JSON line
# per run in relay.jsonl; bench/relay_report.py writes the section of docs/benchmarks.md.
#
# Pinning (two or more CPUs): every relay on CPU 1, alone; the emulator, the load client and
# PostgreSQL on CPU 0. So the relays' figures are per core, and the load that measures them
# never takes the relays' CPU (other work on a shared machine still may: poll_load measures how
# much, and how long the relays waited for their CPU).

PG_DIR=
stop_postgres() {
    if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
    fi
    if [ -n "$PG_DIR" ]; then rm -rf "$PG_DIR"; fi
    PG_DIR=
}
AS_POSTGRES=()
if [ "$(id -u)" = 0 ]; then AS_POSTGRES=(runuser -u postgres --); fi
as_postgres() { "${AS_POSTGRES[@]}" "$@"; }
# A throwaway cluster on a free loopback port, owned by `postgres` (initdb refuses root), its
# socket in its own directory; stopped through its data directory (pg_ctl stop), never by name.
start_postgres() {
    PG_BIN=${SAFECONV_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL not found (install postgresql or set SAFECONV_PG_BIN)" >&2; exit 1; }
    PG_DIR=$(mktemp -d)
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
    as_postgres "$PG_BIN/initdb" --no-sync -A trust -U postgres -D "$PG_DIR/data" >"$OUT/postgres-initdb.log"
    PG_PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${PIN_LOAD[@]}" "${AS_POSTGRES[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
}

# Starts a relay (pinned like every relay) with the given extra arguments; sets RELAY_URL and
# appends its pid to RELAY_PIDS.
RELAY_PIDS=()
start_relay() { # dir name args...
    local dir=$1 name=$2
    shift 2
    SAFECONV_BASE_URL=$URL SAFECONV_ACCOUNT_ID=a-spge-emulator SAFECONV_CLIENT_ID=safeconv-demo-client \
        SAFECONV_CLIENT_SECRET=safeconv-demo-secret SAFECONV_RELAY_LOG=warn \
        "${PIN_RELAY[@]}" "$RELAY" --listen 127.0.0.1:0 --config "$dir/relay.toml" \
        --agent-keys "$dir/agents.keys" --instance "$name" "$@" \
        >"$dir/$name.out" 2>"$OUT/$name.log" &
    RELAY_PIDS+=($!)
    # Its one stdout line, read with builtins (no command substitution while it starts).
    local line=
    RELAY_URL=
    for _ in $(seq 1 300); do
        if [ -s "$dir/$name.out" ] && IFS= read -r line <"$dir/$name.out"; then
            RELAY_URL=${line#SAFECONV_RELAY_URL=}
            return 0
        fi
        sleep 0.1
    done
    echo "relay $name did not start" >&2
    cat "$OUT/$name.log" >&2
    exit 1
}
stop_relays() {
    local pid
    for pid in "${RELAY_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${RELAY_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    RELAY_PIDS=()
}

# One run: N sessions on one path; appends a JSON line to $1.
relay_run() { # results path N
    local results=$1 path=$2 n=$3 dir key urls=() pid_args=() url db=
    local interval=$((n * 1000 / RELAY_PACED_RATE))
    if [ "$interval" -lt "$INTERVAL_MS" ]; then interval=$INTERVAL_MS; fi
    local load=(--sessions "$n" --seconds "$RELAY_SECONDS" --interval-ms "$interval"
        --saturate-seconds "$RELAY_SATURATE_SECONDS" --concurrency "$RELAY_SATURATE_CONCURRENCY"
        --clk-tck "$(getconf CLK_TCK)")
    start_emulator
    dir=$(mktemp -d)
    case "$path" in
        direct) urls=("$URL") ;;
        sqlite | postgres)
            "$RELAY" new-agent-key bench-agent >"$dir/new-key"
            key=$(sed -n 1p "$dir/new-key")
            sed -n 2p "$dir/new-key" >"$dir/agents.keys"
            # Bench-only settings, not for a deployment.
            cat >"$dir/relay.toml" <<'TOML'
[policy]
# Every poll goes upstream (none from the cache), so the figures are those of proxied polls.
min_poll_interval_ms = 0
[limits]
# One bench agent creates all N sessions within a minute; the push-bombing guard (30 an hour)
# would stop it after 30.
per_agent = 1000000
TOML
            ;;
    esac
    case "$path" in
        sqlite)
            start_relay "$dir" relay-sqlite --database-url "sqlite://$dir/relay.db"
            urls=("$RELAY_URL")
            ;;
        postgres)
            db=bench_$n
            as_postgres "$PG_BIN/psql" -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
                -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
            "$RELAY" new-audit-key "$dir/audit.key" >/dev/null
            for name in relay-pg-1 relay-pg-2; do
                start_relay "$dir" "$name" --audit-key-file "$dir/audit.key" \
                    --database-url "postgres://postgres@127.0.0.1:$PG_PORT/$db"
                urls+=("$RELAY_URL")
            done
            ;;
    esac
    local url_args=() auth
    for url in "${urls[@]}"; do url_args+=(--url "$url"); done
    for pid in "${RELAY_PIDS[@]}"; do pid_args+=(--relay-pid "$pid"); done
    # The load side's CPU too, so that what the rest of the machine used meanwhile is known.
    pid_args+=(--watch-pid "$EMULATOR_PID")
    if [ "$path" = postgres ]; then pid_args+=(--watch-pid "$(head -n 1 "$PG_DIR/data/postmaster.pid")"); fi
    if [ "$path" = direct ]; then
        auth=(--token-url "$URL/auth/open/connect/token")
    else
        auth=(--bearer "$key")
    fi
    log "relay scenario: $path, N = $n (${urls[*]})"
    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    timeout "$RUN_TIMEOUT" "${PIN_LOAD[@]}" "$POLL_LOAD" "${url_args[@]}" "${auth[@]}" \
        "${pid_args[@]}" "${load[@]}" >"$dir/load.json"
    # Where each relay's answers came from (upstream or its cache), summed over the relays.
    local reads=""
    if [ "$path" != direct ]; then
        for url in "${urls[@]}"; do
            reads+=$(curl -s "$url/metrics" | sed -n 's/^safeconv_relay_session_reads_total{source="\([a-z]*\)"} \([0-9]*\)$/\1=\2 /p' | tr -d '\n')
        done
    fi
    # How many transactions the database ran over the whole run (creates, ownership reads,
    # housekeeping): polls that need none do not show up here.
    local transactions=
    if [ "$path" = postgres ]; then
        sleep 1 # backends flush their statistics within a second
        transactions=$(as_postgres "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -tA \
            -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'")
    fi
    "$PYTHON" - "$dir/load.json" "$path" "$reads" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$transactions" >>"$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["path"], reads = sys.argv[2], {}
for kv in sys.argv[3].split():
    k, v = kv.split("=")
    reads[k] = reads.get(k, 0) + int(v)
d["reads"], d["load_before"], d["load_after"] = reads, sys.argv[4], sys.argv[5]
d["db_transactions"] = int(sys.argv[6]) if sys.argv[6] else None
print(json.dumps(d))
PY
    tail -n 1 "$results" >&2
    stop_relays
    stop_emulator
    rm -rf "$dir"
}

relay_scenario() {
    local results=$OUT/relay.jsonl
    : >"$results"
    local saved_approve=$APPROVE_AFTER_MS saved_pin=("${PIN_EMULATOR[@]}")
    # Callers who take their time: every session stays running while it is polled (the
    # emulator's default session lifetime, 20 minutes, outlasts the run).
    APPROVE_AFTER_MS=3600000
    PIN_LOAD=() PIN_RELAY=()
    if [ "${#PIN_CLIENT[@]}" -gt 0 ]; then PIN_LOAD=(taskset -c 0) PIN_RELAY=(taskset -c 1); fi
    if [ "$BENCH_NICE" != 0 ]; then
        PIN_LOAD=(nice -n "$BENCH_NICE" "${PIN_LOAD[@]}") PIN_RELAY=(nice -n "$BENCH_NICE" "${PIN_RELAY[@]}")
    fi
    PIN_EMULATOR=("${PIN_LOAD[@]}")
    if [[ " $RELAY_PATHS " == *" postgres "* ]]; then start_postgres; fi
    local started=$SECONDS n path
    for n in $RELAY_SIZES; do
        for path in $RELAY_PATHS; do
            relay_run "$results" "$path" "$n"
        done
    done
    stop_postgres
    APPROVE_AFTER_MS=$saved_approve
    PIN_EMULATOR=("${saved_pin[@]}")
    "$PYTHON" bench/relay_report.py --results "$results" --doc "$DOC" \
        --pinned "${#PIN_CLIENT[@]}" --nice "$BENCH_NICE" --elapsed-s "$((SECONDS - started))" \
        --postgres "$("${PG_BIN:-/usr/lib/postgresql/15/bin}/postgres" --version 2>/dev/null || echo '?')"
    log "wrote the relay section of $DOC"
}

trap 'stop_relays; stop_emulator; stop_postgres' EXIT
if [[ " $SCENARIOS " == *" sdk "* ]]; then sdk_scenario; fi
if [[ " $SCENARIOS " == *" relay "* ]]; then relay_scenario; fi
