#!/usr/bin/env bash
# The relay (relay/, issues 9 and 12): formatting, lints, and its tests — unit, doc and
# integration tests that run the relay in-process and as the `safeconv-relay` binary against the
# emulator, with a test JWKS server, all on loopback. Then PostgreSQL, a real server: the
# multi-instance tests (tests/postgres.rs) each start a throwaway cluster of their own, and the
# in-process session, policy, security and retention tests run once more with a PostgreSQL database
# instead of SQLite, on a cluster this script starts in a temp dir and stops through its pid
# file. scripts/test-rust.sh leaves the relay's tests to this script, so they run once per
# scripts/test-all.sh.
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

if [ -z "${SAFECONV_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  # Only the binaries are wanted: no system cluster started at install time.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  need_apt postgresql
fi
PG_BIN=${SAFECONV_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)}
export SAFECONV_PG_BIN=$PG_BIN
# The PostgreSQL tests fail, rather than skip, if the server cannot be found.
export SAFECONV_REQUIRE_POSTGRES=1

log "cargo fmt --check (relay)"
cargo fmt -p safeconv-relay -- --check

log "cargo clippy (relay, all targets)"
cargo clippy -p safeconv-relay --all-targets -- -D warnings

log "cargo test (relay; PostgreSQL from $PG_BIN)"
cargo test -p safeconv-relay

# A throwaway cluster for the second run: initdb refuses root, so it belongs to `postgres`.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
PG_DIR=$(mktemp -d)
_stop_postgres() {
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$PG_DIR"
  _stop_emulators
}
trap _stop_postgres EXIT
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
as_postgres "$PG_BIN/initdb" --no-sync -A trust -U postgres -D "$PG_DIR/data" >/dev/null
started=
for _ in 1 2 3 4 5; do
  PG_PORT=$((20000 + RANDOM % 30000))
  if as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" >/dev/null; then
    started=1
    break
  fi
done
[ -n "$started" ] || { cat "$PG_DIR/server.log" >&2; exit 1; }

log "cargo test (relay sessions, policy, security and retention, on PostgreSQL 127.0.0.1:$PG_PORT)"
SAFECONV_RELAY_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PG_PORT" \
  cargo test -p safeconv-relay --test sessions --test policy_and_limits --test security --test retention
