"""Token round trips over a simulated 8-hour run: exactly the physical minimum, no 498.

Sixteen threads share one Connection (each with its own session, as a thread pool would)
against the emulator's secured service. Both sides run on one ManualClock, so 8 hours pass
in seconds: at every tick each thread sends one request and waits for the others, then the
clock moves on by ``TICK`` (60) simulated seconds: 480 ticks, 7,680 requests. (One request
per thread per second would be 460,800 requests; sampling one tick a minute keeps the run
short and still lands on every refresh moment, because ``TICK`` divides the refresh interval,
and all 16 threads meet each expired token at the same instant.)

The minimum is what the refresh rule allows: a token obtained at ``t`` is handed out until
``advisory_margin`` before its expiry, so a new one is needed at the first tick at or after
``t + lifetime - margin``. The measured ratio is token requests / that minimum: 1.00.

A second row counts the HTTP requests of one sign-in to a portal (and to ArcGIS Online)
whose standard token URL works: the password is posted to ``/sharing/rest/generateToken``
at once, with no discovery first, so the ratio to one request is exactly 1.00.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Dict, List, Sequence

from common import (
    PASSWORD,
    SERVICE_PARAMS,
    USER,
    BenchError,
    Result,
    emulator_users,
    exactly,
    script_main,
)

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.tokens.handler import advisory_margin
from arctoken_emulator import Emulator

HOURS = 8.0
LIFETIME = 3600.0
"""60-minute tokens."""
THREADS = 16
TICK = 60.0
"""Simulated seconds between two rounds of requests (one request per thread per round)."""
JOIN_SECONDS = 60.0


def minimum_tokens(times: Sequence[float], lifetime: float) -> int:
    """The fewest tokens that serve requests at ``times`` under the refresh rule."""
    usable = lifetime - advisory_margin(lifetime)
    count, valid_until = 0, -float("inf")
    for instant in sorted(times):
        if instant >= valid_until:
            count += 1
            valid_until = instant + usable
    return count


class _Workers:
    """``THREADS`` threads, each sending one request per tick through its own session."""

    def __init__(self, conn: Connection, url: str, ticks: int) -> None:
        self.url = url
        self.ticks = ticks
        self.barrier = threading.Barrier(THREADS + 1)
        self.bad: List[str] = []
        self.sent = 0
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._work, args=(conn,), daemon=True) for _ in range(THREADS)
        ]

    def _work(self, conn: Connection) -> None:
        session = conn.session()
        try:
            for _ in range(self.ticks):
                self.barrier.wait()
                reply = session.get(self.url, params=SERVICE_PARAMS)
                user = reply.json().get("user") if reply.status_code == 200 else None
                with self._lock:
                    self.sent += 1
                    if user != USER:
                        self.bad.append(reply.text[:120])
                self.barrier.wait()
        except threading.BrokenBarrierError:
            return
        except Exception as exc:
            with self._lock:
                self.bad.append(f"{type(exc).__name__}: {exc}")
            self.barrier.abort()
        finally:
            session.close()

    def run(self, clock: ManualClock) -> None:
        """Release the threads tick by tick, moving the clock between ticks."""
        for thread in self.threads:
            thread.start()
        try:
            for _ in range(self.ticks):
                self.barrier.wait()  # the threads send their requests
                self.barrier.wait()  # ... and have their replies
                clock.advance(TICK)
        except threading.BrokenBarrierError:
            raise BenchError(f"a worker failed: {self.bad[:1]}") from None
        finally:
            for thread in self.threads:
                thread.join(JOIN_SECONDS)


def requests_per_sign_in() -> Result:
    """The HTTP requests the emulator receives for one sign-in, per kind: exactly one each."""
    counts: Dict[str, List[str]] = {}
    with Emulator(users=emulator_users()) as emu:
        for kind, url in (("portal", emu.portal_url), ("online", emu.online_url)):
            conn = Connection(kind=kind, url=url, username=USER, password=PASSWORD)
            emu.clear_requests()
            conn.token()
            counts[kind] = [f"{r.method} {r.path}" for r in emu.requests]
            conn.close()
    most = max(len(paths) for paths in counts.values())
    shown = "; ".join(f"{kind}: {', '.join(paths)}" for kind, paths in counts.items())
    return exactly("HTTP requests per sign-in (standard token URL)", most, 1.0, shown)


def run() -> List[Result]:
    """Simulate the 8-hour run and compare the token requests with the minimum; count the
    requests of one portal sign-in."""
    clock = ManualClock()
    ticks = int(HOURS * 3600 / TICK)
    with Emulator(users=emulator_users(), clock=clock, token_lifetime=LIFETIME) as emu:
        conn = Connection(
            kind="server", url=emu.server_url, username=USER, password=PASSWORD, clock=clock
        )
        workers = _Workers(conn, emu.service_url, ticks)
        started = time.perf_counter()
        workers.run(clock)
        elapsed = time.perf_counter() - started
        records = emu.requests
        tokens = len(emu.token_requests())
        service = [r for r in records if "/rest/services/" in r.path]
        rejected = sum(1 for r in service if r.status in (498, 499))
        retried = conn.rejections
        conn.close()
    if workers.bad:
        raise BenchError(f"{len(workers.bad)} request(s) failed, first: {workers.bad[0]}")
    if len(service) != ticks * THREADS:
        raise BenchError(f"expected {ticks * THREADS} service requests, saw {len(service)}")
    least = minimum_tokens([r.time for r in service], LIFETIME)
    clean = rejected == 0 and retried == 0
    return [
        exactly(
            "token requests / minimum (8 h, 16 threads)",
            tokens / least,
            1.0,
            f"{tokens} token requests, minimum {least}; {rejected} answers 498/499, "
            f"{retried} retried; {len(service)} requests ({THREADS} threads x {ticks} ticks "
            f"of {TICK:g} s, {elapsed:.0f} s real); 60-min tokens, refreshed "
            f"{advisory_margin(LIFETIME):g} s early",
            ok=clean,
        ),
        requests_per_sign_in(),
    ]


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("token round trips", run)


if __name__ == "__main__":
    sys.exit(main())
