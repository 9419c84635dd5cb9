#!/usr/bin/env python3
"""Scores one benchmark run (of the SDK or of the baseline) the same way for both.

Reads the client's JSON report (examples/bench or bench/baseline.py) and asks the emulator,
still running, for its request counters and for when each session really became final
(`GET /emulator/sessions/{id}` -> finalAtUnixMs). Prints one JSON line of metrics.

    python3 bench/collect.py --url http://127.0.0.1:PORT --report run.json \
        --approve-after-ms 4500 --label "N=1000"
"""

import argparse
import asyncio
import json
import math

import httpx


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def final_times(url, ids):
    """finalAtUnixMs of each session id, 64 admin requests at a time."""
    limit = asyncio.Semaphore(64)
    async with httpx.AsyncClient(timeout=30.0) as http:

        async def one(session_id):
            async with limit:
                r = await http.get(f"{url}/emulator/sessions/{session_id}")
                r.raise_for_status()
                return r.json().get("finalAtUnixMs")

        return await asyncio.gather(*(one(i) for i in ids))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--approve-after-ms", type=int, required=True)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:")):
        parser.error("--url must be the emulator on loopback")

    with open(args.report) as f:
        report = json.load(f)
    counters = httpx.get(f"{args.url}/emulator/counters", timeout=30.0).json()
    sessions = report.pop("sessions")
    finals = asyncio.run(final_times(args.url, [s[0] for s in sessions]))
    latencies = [told - final for (_, told), final in zip(sessions, finals) if final is not None]

    n = report["sessions_requested"]
    cpu_s, wall_s = report["cpu_s"], report["wall_s"]
    hwm, before = report["hwm_kib"], report["rss_before_kib"]
    completed = report["completed"]
    interval = report["interval_ms"]
    api_requests = (
        counters["createRequests"] + counters["getRequests"] + counters["cancelRequests"]
    )
    all_requests = api_requests + counters["tokenRequests"]
    result = {
        "label": args.label,
        "client": report["client"],
        "sessions": n,
        "completed": completed,
        "succeeded": report["succeeded"],
        "errors": report["errors"],
        "error_kinds": report.get("error_kinds", []),
        "interval_ms": interval,
        "approve_after_ms": args.approve_after_ms,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "requests": all_requests,
        "cpu_us_per_request": cpu_s * 1e6 / all_requests if all_requests else None,
        "cpu_share_of_one_core": cpu_s / wall_s if wall_s else None,
        "rss_before_mib": before / 1024 if before is not None else None,
        "peak_rss_mib": hwm / 1024 if hwm is not None else None,
        "rss_per_session_kib": (hwm - before) / n if None not in (hwm, before) else None,
        "requests_per_auth": api_requests / completed if completed else None,
        "ideal_requests_per_auth": 1 + math.ceil(args.approve_after_ms / interval),
        "token_fetches": counters["tokenRequests"],
        "tokens_issued": counters["tokensIssued"],
        "sessions_created": counters["sessionsCreated"],
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
        "latency_max_ms": max(latencies) if latencies else None,
        "extra": {k: v for k, v in report.items() if k in ("python", "httpx")},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
