"""Per-request overhead of the core's auth against a token typed in by hand.

Two keep-alive sessions call the emulator's secured service: ``conn.session()`` (the core's
ArcGISAuth: host check, token from the handler, response hook watching for 498/499) and a
plain ``requests.Session`` carrying the same token in ``X-Esri-Authorization: Bearer`` and
the ``Referer`` header, as someone who wrote their own ``get_token()`` would send it. After
a warm-up, short blocks of requests alternate between the two (the order flips every round),
each request timed alone; the ratio is of the median per-request times.
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Dict, List

import requests
from common import (
    PASSWORD,
    SERVICE_PARAMS,
    USER,
    BenchError,
    Result,
    at_most,
    emulator_users,
    median,
    script_main,
    us,
)

from arctoken_core.connection import Connection
from arctoken_core.transport.auth import HEADER
from arctoken_emulator import Emulator

WARMUP = 200
ROUNDS = 40
BLOCK = 25
LIMIT = 1.05


def _timed_block(session: requests.Session, url: str, out: List[float]) -> None:
    for _ in range(BLOCK):
        start = time.perf_counter()
        reply = session.get(url, params=SERVICE_PARAMS)
        out.append(time.perf_counter() - start)
        if reply.status_code != 200 or b'"user"' not in reply.content:
            raise BenchError(f"the service refused a request: {reply.text[:120]}")


def run() -> List[Result]:
    """Time both sessions, interleaved, and compare their median per-request times."""
    with Emulator(users=emulator_users(), token_lifetime=3600.0) as emu:
        conn = Connection(kind="server", url=emu.server_url, username=USER, password=PASSWORD)
        token = conn.token_info()
        sessions: Dict[str, requests.Session] = {
            "core": conn.session(),
            "by hand": requests.Session(),
        }
        sessions["by hand"].headers[HEADER] = f"Bearer {token.value}"
        sessions["by hand"].headers["Referer"] = token.referer or ""
        url = emu.service_url
        times: Dict[str, List[float]] = {name: [] for name in sessions}
        for session in sessions.values():
            _timed_block(session, url, [])
            for _ in range(WARMUP // BLOCK):
                _timed_block(session, url, [])
        gc.collect()
        for round_ in range(ROUNDS):
            order = list(sessions) if round_ % 2 == 0 else list(reversed(list(sessions)))
            for name in order:
                _timed_block(sessions[name], url, times[name])
        for session in sessions.values():
            session.close()
        if conn.tokens_issued != 1:
            raise BenchError(f"the core signed in {conn.tokens_issued} times during the run")
    core, plain = median(times["core"]), median(times["by hand"])
    return [
        at_most(
            "per-request time, core auth / token by hand",
            core / plain,
            LIMIT,
            f"median {us(core)} vs {us(plain)} ({(core - plain) * 1e6:+.0f} us per request); "
            f"{ROUNDS * BLOCK} requests each, interleaved in blocks of {BLOCK}",
        )
    ]


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("per-request overhead", run)


if __name__ == "__main__":
    sys.exit(main())
