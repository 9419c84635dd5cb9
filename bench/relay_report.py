"""Writes the relay section of docs/benchmarks.md from scripts/bench.sh's relay scenario.

The section sits between two markers, so the rest of the report (the SDK against the Python
baseline) is kept as it is; a doc without the markers gets the section appended."""

import argparse
import json
import os
import platform

BEGIN = "<!-- relay-benchmark:begin -->"
END = "<!-- relay-benchmark:end -->"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--doc", required=True)
    parser.add_argument("--pinned", default="0")
    args = parser.parse_args()
    runs = {}
    with open(args.results) as f:
        for line in f:
            if line.strip():
                run = json.loads(line)
                runs[run["path"]] = run
    direct, relay = runs["direct"], runs["relay"]
    r = relay["relay"] or {}
    reads = relay.get("reads", {})
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")

    def ms(value):
        return f"{value:.2f} ms"

    rows = [
        ("sessions polled", f"{direct['sessions']:,}", f"{relay['sessions']:,}"),
        ("polls (errors)", f"{direct['polls']:,} ({direct['poll_errors']})", f"{relay['polls']:,} ({relay['poll_errors']})"),
        ("polls per second", f"{direct['polls_per_s']:.0f}", f"{relay['polls_per_s']:.0f}"),
        ("latency p50", ms(direct["p50_ms"]), ms(relay["p50_ms"])),
        ("latency p90", ms(direct["p90_ms"]), ms(relay["p90_ms"])),
        ("latency p99", ms(direct["p99_ms"]), ms(relay["p99_ms"])),
        ("latency max", ms(direct["max_ms"]), ms(relay["max_ms"])),
    ]
    lines = [
        BEGIN,
        "## The relay: polling through safeconv-relay vs straight to the emulator",
        "",
        f"One run of `SCENARIOS=relay scripts/bench.sh`: {relay['sessions']:,} sessions (one per "
        f"caller, all running), each polled every {relay['interval_ms']} ms for {relay['seconds']} s "
        "by one load client (`relay/examples/poll_load.rs`, one thread), first straight to the "
        "emulator with a Signicat token, then through the relay with an agent key. The relay is "
        "the release build on SQLite, "
        + ("alone on CPU 0, the emulator and the load client on CPU 1" if args.pinned != "0" else "unpinned")
        + f"; its minimum poll interval is just under the clients', so every poll is proxied to "
        f"Signicat (upstream reads: {reads.get('upstream', '?')}, answered from the cache: "
        f"{reads.get('cache', '0')}). Machine: {model}, {os.cpu_count()} CPUs, Linux "
        f"{platform.release()}; load average when the report was written: "
        f"{' '.join(open('/proc/loadavg').read().split()[:3])} (other work on the machine shares "
        "the two cores, so absolute latencies vary from run to run; the two columns ran minutes apart).",
        "",
        "| | straight to the emulator | through the relay |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    lines += [
        "",
        "| the relay | |",
        "|---|---:|",
        f"| added latency p50 | {ms(relay['p50_ms'] - direct['p50_ms'])} |",
        f"| added latency p99 | {ms(relay['p99_ms'] - direct['p99_ms'])} |",
        f"| CPU per proxied poll | {r.get('cpu_us_per_poll', float('nan')):.0f} µs |",
        f"| CPU over the polling phase | {r.get('cpu_s', float('nan')):.2f} s for {relay['polls']:,} polls |",
        f"| peak RSS | {r.get('peak_rss_kib', 0) / 1024:.1f} MiB |",
        "",
        "CPU per poll covers everything the relay does for one: the agent's key checked, ownership "
        "looked up (in memory), the core client's request to Signicat (token from its cache), the "
        "answer parsed, cached and passed on (logs at `warn`, so no line per request). Added "
        "latency is the relay's whole share of a poll, the extra loopback hop included; its tail "
        "(p90 and up) is where the relay waits for CPU 0, which it shares with whatever else the "
        "machine runs (see the load average). Targets, the PostgreSQL figures and N = 10 000 come "
        "with the scale-out issue.",
        END,
    ]
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


if __name__ == "__main__":
    main()
