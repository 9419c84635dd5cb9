"""Writes the relay section of docs/benchmarks.md from scripts/bench.sh's relay scenario.

The section sits between two markers, so the rest of the report (the SDK against the Python
baseline) is kept as it is; a doc without the markers gets the section appended. Every figure
and every "met" comes from the results file of one run; nothing here is a measured number."""

import argparse
import json
import math
import os
import platform

BEGIN = "<!-- relay-benchmark:begin -->"
END = "<!-- relay-benchmark:end -->"

PATHS = [
    ("direct", "straight to the emulator"),
    ("sqlite", "1 relay, SQLite"),
    ("postgres", "2 relays, PostgreSQL"),
]

# The targets.
TARGET_POLLS_PER_CORE = 5000
TARGET_ADDED_P99_MS = 2.0
TARGET_ADDED_P99_AT = 1000
TARGET_RSS_MIB = 128
TARGET_RSS_AT = 10000
# Other work above this many cores during a paced phase makes its latency tail the machine's.
NOISY_CORES = 0.25


def num(value, digits=0):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def ms(value):
    return "–" if value is None else f"{value:.2f} ms"


def signed_ms(value):
    return "–" if value is None else f"{value:+.2f} ms"


def mib(kib):
    return None if kib is None else kib / 1024


class Run:
    """One path at one N: what poll_load printed, plus the relays' read counters."""

    def __init__(self, data):
        self.d = data
        self.paced = data.get("paced") or {}
        self.sat = data.get("saturation") or {}
        self.first = data.get("first_contact") or {}

    def relay(self, phase):
        return (phase.get("relay") or {}) if phase else {}

    def cpu(self, phase):
        return phase.get("cpu") or {}

    @property
    def is_relay(self):
        return self.d["path"] != "direct"

    def per_core(self):
        """Polls answered per second of relay CPU in the saturation phase."""
        cpu_s = self.relay(self.sat).get("cpu_s")
        polls = self.sat.get("polls")
        return polls / cpu_s if cpu_s and polls else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--doc", required=True)
    parser.add_argument("--pinned", default="0")
    parser.add_argument("--nice", default="0")
    parser.add_argument("--elapsed-s", type=int, default=0)
    parser.add_argument("--postgres", default="?")
    args = parser.parse_args()

    runs = {}
    with open(args.results) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                runs[(d["path"], d["sessions"])] = Run(d)
    sizes = sorted({n for _, n in runs})
    columns = [(n, path, label) for n in sizes for path, label in PATHS if (path, n) in runs]
    pinned = args.pinned != "0"

    def get(n, path):
        return runs.get((path, n))

    def added(n, path, key):
        run, direct = get(n, path), get(n, "direct")
        if not run or not direct or not run.is_relay:
            return None
        a, b = run.paced.get(key), direct.paced.get(key)
        return None if a is None or b is None else a - b

    def row(name, cell):
        return f"| {name} | " + " | ".join(cell(runs[(p, n)], n, p) for n, p, _ in columns) + " |"

    def relay_only(f):
        return lambda r, n, p: f(r, n, p) if r.is_relay else "–"

    any_run = next(iter(runs.values()))
    concurrency = any_run.sat.get("concurrency", "?")
    paced_s = any_run.d.get("seconds", "?")
    sat_s = round(any_run.sat.get("wall_s", 0))
    intervals = {n: get(n, p).d["interval_ms"] for n, p, _ in columns}
    model = next(
        (l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"
    )

    header = "| | " + " | ".join(f"N = {n:,}: {label}" for n, _, label in columns) + " |"
    lines = [
        BEGIN,
        "## The relay: straight to the emulator, one relay on SQLite, two relays on PostgreSQL",
        "",
        f"One run of `SCENARIOS=relay scripts/bench.sh` ({args.elapsed_s // 60} min "
        f"{args.elapsed_s % 60} s), all columns from it. For each N a fresh emulator (release "
        "build; every caller takes an hour to answer, so every session stays running), N sessions "
        "created (distinct NINs, 50 creates at a time), then two phases by one load client "
        "(`relay/examples/poll_load.rs`, one thread):",
        "",
        "- with two relays, **the first poll on the other instance**: each session polled once "
        "on the instance that did not create it, 50 at a time (that instance reads the owner "
        "from the database, once), so that the phases after it measure the steady state;",
        f"- **paced**, {paced_s} s: each session polled once per interval, the N pollers spread "
        "evenly over it ("
        + ", ".join(f"N = {n:,}: every {intervals[n]} ms, {n * 1000 // intervals[n]:,} polls/s" for n in sizes)
        + "); every poll's latency measured at the client;",
        f"- **saturation**, {sat_s} s: {concurrency} polls always under way, each followed at once "
        "by the next: the most polls per second the path answers.",
        "",
        "A part of it: `RELAY_SIZES=1000 RELAY_PATHS=\"direct sqlite\"` (paths: `direct`, "
        "`sqlite`, `postgres`); the phases' lengths, the pace and the concurrency are the "
        "`RELAY_*` variables at the top of `scripts/bench.sh`. The bench is not part of "
        "`scripts/test-all.sh`.",
        "",
        "The relays are the release build with a bench-only configuration: `min_poll_interval_ms = "
        "0`, so every poll is proxied to the emulator and none is answered from the cache (see the "
        "upstream reads row), and a per-agent create limit high enough for one agent to create all "
        "N sessions; logs at `warn` (no line per request). Two relays share one PostgreSQL "
        f"({args.postgres.replace('postgres (PostgreSQL) ', 'PostgreSQL ')}, a throwaway local "
        "cluster, default settings); creates go to them in turn and each session's polls alternate "
        "between them, as behind a load balancer without stickiness. "
        + (
            "**Pinning:** every relay on CPU 1, alone; the emulator, the load client and PostgreSQL "
            "on CPU 0, so relay figures are for one core, and the two PostgreSQL relays share that "
            "one core."
            if pinned
            else "Nothing was pinned (fewer than two CPUs)."
        )
        + (f" Bench processes ran at nice {args.nice}." if args.nice != "0" else "")
        + f" Machine: {model}, {os.cpu_count()} CPUs, Linux {platform.release()}.",
        "",
        header,
        "|---|" + "---:|" * len(columns),
        row("**first poll on the other instance**: polls per second", relay_only(lambda r, n, p: num(r.first.get("polls_per_s")) if r.first else "–")),
        row("latency p50 / p99", relay_only(lambda r, n, p: f"{ms(r.first.get('p50_ms'))} / {ms(r.first.get('p99_ms'))}" if r.first else "–")),
        row("**paced**: polls per second", lambda r, n, p: num(r.paced.get("polls_per_s"))),
        row("polls (errors)", lambda r, n, p: f"{num(r.paced.get('polls'))} ({r.paced.get('poll_errors', '–')})"),
        row("latency p50", lambda r, n, p: ms(r.paced.get("p50_ms"))),
        row("latency p99", lambda r, n, p: ms(r.paced.get("p99_ms"))),
        row("latency max", lambda r, n, p: ms(r.paced.get("max_ms"))),
        row("**added latency p50** (vs straight, same N)", relay_only(lambda r, n, p: signed_ms(added(n, p, "p50_ms")))),
        row("**added latency p99**", relay_only(lambda r, n, p: signed_ms(added(n, p, "p99_ms")))),
        row("polls over 10 ms (in the worst second)", lambda r, n, p: slow(r.paced)),
        row("relay CPU per poll", relay_only(lambda r, n, p: f"{num(r.relay(r.paced).get('cpu_us_per_poll'))} µs")),
        row("relay waited for its CPU, per poll", relay_only(lambda r, n, p: f"{num(r.relay(r.paced).get('run_queue_wait_us_per_poll'))} µs")),
        row("relay cores busy", relay_only(lambda r, n, p: num(r.relay(r.paced).get("cores_busy"), 2))),
        row("other work on the machine (cores)", lambda r, n, p: num(r.cpu(r.paced).get("others_cores_busy"), 2)),
        row("**saturation**: polls per second", lambda r, n, p: num(r.sat.get("polls_per_s"))),
        row("latency p50 / p99", lambda r, n, p: f"{ms(r.sat.get('p50_ms'))} / {ms(r.sat.get('p99_ms'))}"),
        row("relay cores busy", relay_only(lambda r, n, p: num(r.relay(r.sat).get("cores_busy"), 2))),
        row("relay CPU per poll", relay_only(lambda r, n, p: f"{num(r.relay(r.sat).get('cpu_us_per_poll'))} µs")),
        row("**proxied polls per second per relay core**", relay_only(lambda r, n, p: num(r.per_core()))),
        row("load side cores busy (client, emulator, PostgreSQL)", lambda r, n, p: num(r.cpu(r.sat).get("load_side_cores_busy"), 2)),
        row("other work on the machine (cores)", lambda r, n, p: num(r.cpu(r.sat).get("others_cores_busy"), 2)),
        row("**peak RSS** (largest instance)", relay_only(lambda r, n, p: f"{num(mib(r.d.get('peak_rss_kib')), 1)} MiB")),
        row("upstream reads / from the cache", relay_only(lambda r, n, p: f"{num(r.d['reads'].get('upstream', 0))} / {num(r.d['reads'].get('cache', 0))}")),
        row("N creates took", lambda r, n, p: f"{r.d.get('create_s', 0):.1f} s"),
        row("database transactions, whole run", lambda r, n, p: num(r.d.get("db_transactions"))),
        "",
        "*Added latency* is the relay path's percentile minus the straight path's at the same N: "
        "the extra loopback hop and everything the relay does. *Relay CPU per poll* covers the "
        "agent's key checked, ownership (from memory once an instance has seen the session), the "
        "core client's request upstream, the answer parsed, cached and passed on. *Waited for its "
        "CPU* is the time the relays' threads were ready to run while another process had CPU 1 "
        "(`/proc/PID/task/*/schedstat`); *other work* is what the rest of the machine used "
        "meanwhile (`/proc/stat` less the bench's own processes): the machine is shared, and "
        "when other work runs in bursts, the slow polls bunch up in the seconds it ran (the "
        "worst second's count beside the total). "
        "*Proxied polls per second per relay core* is the saturation phase's polls divided by the "
        "relays' CPU seconds over it: what one fully busy core answers (when the relays' core is "
        "not fully busy, the load side on the other core, or other work, was the limit).",
        "",
    ]

    lines += targets(runs, sizes, get, added)
    lines += postgres_limits(runs, sizes, get, added)
    lines.append(END)

    section = "\n".join(lines) + "\n"
    doc = open(args.doc).read() if os.path.exists(args.doc) else ""
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc = head + section.rstrip("\n") + tail
    else:
        doc = doc.rstrip("\n") + "\n\n" + section
    with open(args.doc, "w") as f:
        f.write(doc)


def slow(phase):
    by_second = phase.get("slow_by_second") or []
    return f"{num(sum(by_second))} ({num(max(by_second, default=0))})"


def yes_no(ok):
    return "–" if ok is None else ("**yes**" if ok else "**no**")


def targets(runs, sizes, get, added):
    out = ["### Targets", "", "| target | measured | met |", "|---|---|---|"]

    # Proxied polls per second on one core, SQLite.
    sqlite = [get(n, "sqlite") for n in sizes if get(n, "sqlite")]
    if sqlite:
        measured = min(r.sat.get("polls_per_s", 0) for r in sqlite)
        per_core = min(r.per_core() or 0 for r in sqlite)
        text = "; ".join(
            f"N = {r.d['sessions']:,}: {num(r.sat.get('polls_per_s'))} polls/s with the relay confined "
            f"to one core ({num(r.relay(r.sat).get('cores_busy'), 2)} of it busy), "
            f"{num(r.per_core())} per core-second"
            for r in sqlite
        )
        out.append(
            f"| at least {TARGET_POLLS_PER_CORE:,} proxied polls per second on one core (SQLite) | "
            f"{text} | {yes_no(measured >= TARGET_POLLS_PER_CORE)}"
            + ("" if measured >= TARGET_POLLS_PER_CORE or per_core < TARGET_POLLS_PER_CORE
               else " (its CPU cost allows it; the run did not reach it)")
            + " |"
        )

    # Added p99 at 1 000.
    cells, oks = [], []
    for path, label in PATHS[1:]:
        a = added(TARGET_ADDED_P99_AT, path, "p99_ms")
        if a is not None:
            cells.append(f"{label}: {a:+.2f} ms")
            oks.append(a <= TARGET_ADDED_P99_MS)
    if cells:
        out.append(
            f"| added latency p99 ≤ {TARGET_ADDED_P99_MS:g} ms at {TARGET_ADDED_P99_AT:,} sessions | "
            + "; ".join(cells)
            + f" | {yes_no(all(oks))}"
            + ("" if all(oks) or len(set(oks)) == 1 else " (not on every path)")
            + " |"
        )

    # RSS at 10 000.
    cells, oks = [], []
    for path, label in PATHS[1:]:
        r = get(TARGET_RSS_AT, path)
        if r and r.d.get("peak_rss_kib"):
            m = mib(r.d["peak_rss_kib"])
            cells.append(f"{label}: {m:.1f} MiB")
            oks.append(m < TARGET_RSS_MIB)
    if cells:
        out.append(
            f"| relay RSS < {TARGET_RSS_MIB} MiB at {TARGET_RSS_AT:,} sessions | "
            + "; ".join(cells)
            + f" | {yes_no(all(oks))} |"
        )
    out.append("")
    out += latency_reading(get, added)
    return out


def latency_reading(get, added):
    """Where the added tails came from, in this run's numbers."""
    out = []
    sizes = sorted({n for n in (TARGET_ADDED_P99_AT, TARGET_RSS_AT)})
    for n in sizes:
        for path, label in PATHS[1:]:
            r, d = get(n, path), get(n, "direct")
            a = added(n, path, "p99_ms")
            if not r or not d or a is None:
                continue
            relay = r.relay(r.paced)
            others = r.cpu(r.paced).get("others_cores_busy", 0)
            line = (
                f"- {label}, N = {n:,}: added p99 {a:+.2f} ms, p50 "
                f"{added(n, path, 'p50_ms'):+.2f} ms; the relay spent "
                f"{num(relay.get('cpu_us_per_poll'))} µs of CPU per poll and waited "
                f"{num(relay.get('run_queue_wait_us_per_poll'))} µs per poll for its core; other "
                f"work on the machine used {others:.2f} cores meanwhile "
                f"({num(d.cpu(d.paced).get('others_cores_busy'), 2)} during the straight run); "
                f"{slow(r.paced)} polls over 10 ms (straight: {slow(d.paced)})."
            )
            if a > TARGET_ADDED_P99_MS and others <= NOISY_CORES:
                line += (
                    " This tail is not other work's: its slow polls bunch up in a few seconds "
                    f"while the relays' core was {num(relay.get('cores_busy'), 2)} busy on "
                    "average; what stalls them then is not yet known."
                )
            out.append(line)
    busy = [
        r.cpu(r.paced).get("others_cores_busy", 0)
        for r in (get(TARGET_ADDED_P99_AT, p) for p, _ in PATHS)
        if r
    ]
    if out and max(busy, default=0) > NOISY_CORES:
        out.append(
            f"- Other work used up to {max(busy):.2f} cores during the {TARGET_ADDED_P99_AT:,}-"
            "session runs, so their tails are mostly the machine's (an added p99 below zero means "
            "the straight run's tail was the larger): judge the target on a quiet machine's run."
        )
    if out:
        out = [
            "Reading the latency: a poll through a relay costs the relay well under a millisecond "
            "of CPU, so a tail of several milliseconds is time a poll spent waiting: for the "
            "relay's core (two relays on one core wait for each other; other work on the shared "
            "machine takes the core in bursts) or for the load side's. The figures of this run:",
            "",
        ] + out + [""]
    return out


def burst(run):
    n, f = run.d["sessions"], run.first
    if not f:
        return ""
    text = (
        f"At N = {n:,}: {num(f.get('polls'))} such polls at {num(f.get('polls_per_s'))} a second, "
        f"p50 {ms(f.get('p50_ms'))}, p99 {ms(f.get('p99_ms'))} (the paced steady state after it: "
        f"p50 {ms(run.paced.get('p50_ms'))}, p99 {ms(run.paced.get('p99_ms'))})"
    )
    errors = f.get("poll_errors", 0)
    if errors:
        kinds = ", ".join(f"{k}: {v:,}" for k, v in sorted(f.get("poll_error_kinds", {}).items()))
        return text + f"; {errors:,} failed ({kinds})."
    return text + "."


def postgres_limits(runs, sizes, get, added):
    """What limits the PostgreSQL figures, with this run's numbers."""
    pg = [get(n, "postgres") for n in sizes if get(n, "postgres")]
    sq = {n: get(n, "sqlite") for n in sizes}
    if not pg:
        return []
    out = ["### What limits the PostgreSQL figures", ""]
    for r in pg:
        n = r.d["sessions"]
        s = sq.get(n)
        per_instance = r.relay(r.sat).get("cpu_s_per_instance") or []
        sat_cpu = r.relay(r.sat).get("cpu_us_per_poll")
        line = (
            f"- N = {n:,}: creates took {r.d['create_s']:.1f} s"
            + (f" (SQLite: {s.d['create_s']:.1f} s)" if s else "")
            + f"; saturation {num(r.sat.get('polls_per_s'))} polls/s"
            + (f" (SQLite: {num(s.sat.get('polls_per_s'))})" if s else "")
            + f" at {num(sat_cpu)} µs of relay CPU per poll"
            + (f" (SQLite: {num(s.relay(s.sat).get('cpu_us_per_poll'))} µs)" if s else "")
            + (
                f", split {' / '.join(f'{c:.2f}' for c in per_instance)} CPU-s between the instances"
                if per_instance
                else ""
            )
            + f"; load side {num(r.cpu(r.sat).get('load_side_cores_busy'), 2)} cores busy"
            + (f" (SQLite: {num(s.cpu(s.sat).get('load_side_cores_busy'), 2)})" if s else "")
            + "."
        )
        out.append(line)
    out += [
        "",
        "- **Polls do not touch the database once an instance knows a session.** Ownership is "
        "read from PostgreSQL only the first time an instance sees a session (a poll landing on the "
        "instance that did not create it); after that it is answered from the instance's memory, "
        "like SQLite's (the database transactions row counts creates, those first reads and "
        "housekeeping; compare it with the polls). So in steady state the two-relay figures are "
        "the relay's own cost plus that of two processes sharing one core (each wakes for half "
        "the polls), not the database's.",
        "- **The 2-core machine.** Both relays share CPU 1 (so their per-core figure is directly "
        "comparable to SQLite's), and PostgreSQL shares CPU 0 with the emulator and the load "
        "client. A real deployment gives each instance its own cores and the database its own "
        "host, so N instances serve about N times one core's figure, less the database round "
        "trips below.",
        "- **Creates are where PostgreSQL costs.** Each create is two transactions (recorded "
        "before it is sent, completed after) with the NIN's and the agent's advisory locks and "
        "the audit chain's head row locked `FOR UPDATE`, each a round trip to the database: one "
        "bench agent's creates queue on its advisory lock, and every audit append from both "
        "instances queues on the head row. Creates per second are bounded by that chain, not by "
        "CPU; polls are not.",
        "- **Round trips.** Every database call first takes a connection from the instance's pool, "
        "and the pool checks it with a round trip of its own before handing it out (sqlx's "
        "`test_before_acquire`, on by default): an ownership read is two round trips, a create's "
        "transactions each one more. On loopback that is tens of microseconds; to a database on "
        "another host, a network round trip each.",
        "- **The first poll on the other instance costs a database read** (the owner), through "
        "the instance's pool (`database.max_connections`, 10; a connection is waited for at most "
        "2 s, then the poll is answered 503), on a database that here shares CPU 0 with the "
        "emulator and the load client. In a call centre sessions start one by one, so these "
        "reads come at the rate sessions start; the bench makes them all at once. "
        + " ".join(burst(r) for r in pg),
        "",
    ]
    return out


if __name__ == "__main__":
    main()
