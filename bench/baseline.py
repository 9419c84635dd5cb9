#!/usr/bin/env python3
"""The baseline: the few dozen lines of httpx + asyncio a user might write instead of the SDK.

Same flow as examples/bench (token, create a Safe Conversation, poll every interval until a
final status) against the same emulator, and the same JSON report on stdout, so that
bench/collect.py scores both the same way. Deliberately plain, as such code is written in
practice: one AsyncClient with httpx's defaults (plus a longer timeout, so that load on
loopback does not turn into errors), a module-level token cache renewed on expiry (without a
lock), `raise_for_status()` and no retries.

    python3 bench/baseline.py --url http://127.0.0.1:PORT --sessions 1000 --interval-ms 1000
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time

import httpx

ACCOUNT_ID = "a-spge-emulator"
CLIENT_ID = "safeconv-demo-client"
CLIENT_SECRET = "safeconv-demo-secret"
FINAL = {"SUCCESS", "ERROR", "ABORT", "CANCELLED", "EXPIRED", "INVALID"}

# ---- the "user's own code" starts here ----------------------------------------------------

_token = None
_token_expires = 0.0
# The variant (`--max-in-flight K`): at most K requests under way, as a user does after seeing
# httpx's connection pool slow to a crawl with thousands of requests queued in it.
_limit = None


async def send(http, method, url, **kwargs):
    if _limit is None:
        return await http.request(method, url, **kwargs)
    async with _limit:
        return await http.request(method, url, **kwargs)


async def get_token(http, base):
    global _token, _token_expires
    if _token is None or time.time() > _token_expires - 30:
        r = await send(
            http,
            "POST",
            f"{base}/auth/open/connect/token",
            data={
                "grant_type": "client_credentials",
                "scope": "signicat-api",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )
        r.raise_for_status()
        body = r.json()
        _token = body["access_token"]
        _token_expires = time.time() + body.get("expires_in", 600)
    return _token


async def authenticate(http, base, nin, interval):
    """Create a Safe Conversation and poll until it ends; returns (session id, status)."""
    params = {"signicat-accountId": ACCOUNT_ID}
    token = await get_token(http, base)
    r = await send(
        http,
        "POST",
        f"{base}/auth/rest/sessions",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "flow": "headless",
            "allowedProviders": ["nbid"],
            "requestedAttributes": ["name", "firstName", "lastName", "nin", "dateOfBirth"],
            "prefilledInput": {"nin": nin},
            "additionalParameters": {"nbid_auth_type": "PHONE"},
        },
    )
    r.raise_for_status()
    session = r.json()
    # (here the agent would read session["idpData"]["bindingMessage"] to the caller)
    while session["status"] not in FINAL:
        await asyncio.sleep(interval)
        token = await get_token(http, base)
        r = await send(
            http,
            "GET",
            f"{base}/auth/rest/sessions/{session['id']}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
        session = r.json()
    return session["id"], session["status"]

# ---- the "user's own code" ends here --------------------------------------------------------


def rss_kib():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            fields[name] = rest.split()
    return int(fields["VmRSS"][0]), int(fields["VmHWM"][0])


def cpu_time():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def one_session(http, base, nin, interval, delay):
    await asyncio.sleep(delay)
    session_id, status = await authenticate(http, base, nin, interval)
    return session_id, time.time() * 1000.0, status == "SUCCESS"


async def run(args):
    global _limit
    if args.max_in_flight:
        _limit = asyncio.Semaphore(args.max_in_flight)
    interval = args.interval_ms / 1000.0
    ramp = (args.ramp_ms if args.ramp_ms is not None else args.interval_ms) / 1000.0
    n = args.sessions
    # Not `async with`: closing the client would wait for requests abandoned at the deadline.
    http = httpx.AsyncClient(timeout=60.0)
    rss_before, _ = rss_kib()
    cpu_before = cpu_time()
    started = time.monotonic()
    tasks = [
        asyncio.create_task(one_session(http, args.url, args.nin, interval, ramp * i / n))
        for i in range(n)
    ]
    finished, pending = await asyncio.wait(tasks, timeout=args.deadline_s)
    wall = time.monotonic() - started
    cpu = cpu_time() - cpu_before
    rss_after, hwm = rss_kib()
    # Whatever has not finished by the deadline is abandoned: the process exits right after
    # the report (unwinding thousands of queued httpx requests can itself take minutes).
    results = [t.result() if t.exception() is None else t.exception() for t in finished]
    done = [r for r in results if not isinstance(r, BaseException)]
    errors = sorted({f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)})
    if pending:
        errors.insert(0, f"unfinished after the {args.deadline_s:.0f} s deadline: {len(pending)}")
    return {
        "client": "python-httpx" + (f"-limit{args.max_in_flight}" if args.max_in_flight else ""),
        "python": sys.version.split()[0],
        "httpx": httpx.__version__,
        "sessions_requested": n,
        "completed": len(done),
        "succeeded": sum(1 for d in done if d[2]),
        "errors": n - len(done),
        "error_kinds": errors[:5],
        "interval_ms": args.interval_ms,
        "ramp_ms": int(ramp * 1000),
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "hwm_kib": hwm,
        "sessions": [[d[0], d[1]] for d in done],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--interval-ms", type=int, default=1000)
    parser.add_argument("--ramp-ms", type=int, default=None)
    parser.add_argument("--nin", default="01018010018")
    parser.add_argument("--deadline-s", type=float, default=120.0,
                        help="stop waiting after this long and report what finished")
    parser.add_argument("--max-in-flight", type=int, default=0,
                        help="the variant: at most this many requests under way (0: no limit)")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:")):
        parser.error("--url must be a loopback http URL (the emulator)")
    if not 1 <= args.sessions <= 100_000:
        parser.error("--sessions must be 1..100000")
    print(json.dumps(asyncio.run(run(args))), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
