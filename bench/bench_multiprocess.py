"""Eight processes sharing the token cache sign in once per token lifetime between them.

The emulator runs in this process on the real clock with short tokens (``LIFETIME`` s), so
real processes can live through several of them. Eight workers start (this same file with
``--worker``), each builds ``Connection(kind="server", ..., cache=True, cache_dir=...)``,
says it is ready, and on a common "go" calls the secured service every ``INTERVAL`` s for
``DURATION`` s. The run is then repeated without the cache, for context.

The minimum follows the refresh rule: a token is handed out until ``advisory_margin`` before
its expiry, so one token serves at most ``lifetime - margin`` seconds of requests and a run
whose requests span ``S`` seconds from the first sign-in needs ``floor(S / usable) + 1``
tokens. ``DURATION`` makes ``S`` about 4.5 usable spans, half a span from any boundary, so
scheduling jitter cannot change the minimum.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

from common import (
    PASSWORD,
    SERVICE_PARAMS,
    USER,
    BenchError,
    Result,
    child_env,
    context,
    emulator_users,
    exactly,
    script_main,
)

from arctoken_core.tokens.handler import advisory_margin
from arctoken_emulator import Emulator

WORKERS = 8
LIFETIME = 2.0
"""Seconds a token lives (the emulator caps the 60 minutes asked for)."""
USABLE = LIFETIME - advisory_margin(LIFETIME)
DURATION = 4.5 * USABLE
INTERVAL = 0.05
"""Seconds each worker waits between two requests."""
READY_TIMEOUT = 60.0


def minimum_tokens(first_sign_in: float, last_request: float) -> int:
    """The fewest tokens that serve requests from ``first_sign_in`` to ``last_request``."""
    return math.floor((last_request - first_sign_in) / USABLE) + 1


def _run_workers(emu: Emulator, cache_dir: Optional[str]) -> Dict[str, Any]:
    """Start the workers, release them together, and collect their reports and the counts."""
    emu.clear_requests()
    argv = [sys.executable, __file__, "--worker", emu.server_url, cache_dir or ""]
    procs = [
        subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for _ in range(WORKERS)
    ]
    try:
        for proc in procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(PASSWORD + "\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise BenchError("a worker did not start")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.close()
        reports = []
        for proc in procs:
            assert proc.stdout is not None
            out = proc.stdout.read()
            if proc.wait(timeout=READY_TIMEOUT) != 0:
                raise BenchError(f"a worker exited {proc.returncode}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    records = emu.requests
    tokens = sorted(r.time for r in emu.token_requests())
    service = [r for r in records if "/rest/services/" in r.path]
    if not tokens or not service:
        raise BenchError("the workers sent no requests")
    return {
        "tokens": len(tokens),
        "minimum": minimum_tokens(tokens[0], max(r.time for r in service)),
        "rejected": sum(1 for r in service if r.status in (498, 499)),
        "retried": sum(int(rep["rejections"]) for rep in reports),
        "bad": sum(int(rep["bad"]) for rep in reports),
        "requests": len(service),
        "span": max(r.time for r in service) - tokens[0],
    }


def run() -> List[Result]:
    """Run the eight workers with the shared cache, then without it."""
    with Emulator(users=emulator_users(), token_lifetime=LIFETIME) as emu:
        with tempfile.TemporaryDirectory() as folder:
            shared = _run_workers(emu, folder)
        alone = _run_workers(emu, None)
    for found in (shared, alone):
        if found["bad"]:
            raise BenchError(f"{found['bad']} request(s) failed")
    clean = shared["rejected"] == 0 and shared["retried"] == 0
    return [
        exactly(
            "token requests / minimum (8 processes, shared cache)",
            shared["tokens"] / shared["minimum"],
            1.0,
            f"{shared['tokens']} token requests, minimum {shared['minimum']} over "
            f"{shared['span']:.1f} s of {LIFETIME:g}-s tokens (refreshed "
            f"{advisory_margin(LIFETIME):g} s early); {shared['rejected']} answers 498/499, "
            f"{shared['retried']} retried; {shared['requests']} requests",
            ok=clean,
        ),
        context(
            "  without the cache: token requests / minimum",
            alone["tokens"] / alone["minimum"],
            f"{alone['tokens']} token requests, minimum {alone['minimum']}: one sign-in per "
            f"process per token; {alone['rejected']} answers 498/499",
        ),
    ]


def worker(server_url: str, cache_dir: str) -> int:
    """One worker process: sign in through the (optional) cache and call the service."""
    from common import quiet_core_logs

    from arctoken_core.connection import Connection

    quiet_core_logs()
    password = sys.stdin.readline().rstrip("\n")
    conn = Connection(
        kind="server",
        url=server_url,
        username=USER,
        password=password,
        cache=bool(cache_dir),
        cache_dir=cache_dir or None,
    )
    session = conn.session()
    service_url = f"{server_url}/rest/services/Secure/MapServer"
    print("ready", flush=True)
    sys.stdin.readline()
    sent = bad = 0
    end = time.monotonic() + DURATION
    while time.monotonic() < end:
        reply = session.get(service_url, params=SERVICE_PARAMS)
        sent += 1
        if reply.status_code != 200 or reply.json().get("user") != USER:
            bad += 1
        time.sleep(INTERVAL)
    session.close()
    report = {"sent": sent, "bad": bad, "rejections": conn.rejections}
    print(json.dumps(report), flush=True)
    return 0


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("multi-process cache", run)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(worker(sys.argv[2], sys.argv[3]))
    sys.exit(main())
