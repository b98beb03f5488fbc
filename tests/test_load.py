"""Load: 32 threads share one Connection across several token lifetimes, and refreshes fail.

The clock is a ManualClock moved between rounds: every round releases 32 threads at once.
Every request succeeds; each refresh costs exactly one token request; a refresh that fails
reaches every waiting thread as the same typed error (no deadlock), and the next call tries
again.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Tuple, Type

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ArcGISServiceError, ArcTokenError, TransportError
from arctoken_core.tokens.provider import TokenProvider
from arctoken_core.tokens.refresh import advisory_margin
from arctoken_core.tokens.token import Token
from arctoken_emulator import Emulator
from tests.conftest import ALICE, LIFETIME
from tests.support import connect, in_threads
from tests.waiting import blocked_in_wait

pytestmark = pytest.mark.timeout(60)

THREADS = 32
STEP = 90.0
"""Seconds the clock moves between rounds: several rounds per token, one lands in each window."""


def _conn(emu: Emulator, clock: ManualClock) -> Connection:
    return connect("server", emu.server_url, clock, timeout=5)


def _expected_tokens(elapsed: float) -> int:
    """Tokens a run of ``elapsed`` seconds needs: one per usable stretch of a lifetime."""
    return 1 + int(elapsed // (LIFETIME - advisory_margin(LIFETIME)))


@pytest.mark.parametrize("how", ["session", "request_json", "token"])
def test_32_threads_over_four_lifetimes_every_call_succeeds_one_sign_in_per_refresh(
    emu: Emulator, clock: ManualClock, how: str
) -> None:
    conn = _conn(emu, clock)
    session = conn.session()
    calls: Dict[str, Callable[[], object]] = {
        "session": lambda: session.get(emu.service_url, params={"f": "json"}).json()["user"],
        "request_json": lambda: conn.request_json("GET", emu.service_url)["user"],
        "token": conn.token,
    }
    rounds = int(4 * LIFETIME / STEP)
    before = ""
    for _ in range(rounds):
        results = in_threads(THREADS, calls[how])
        assert not [r for r in results if isinstance(r, BaseException)]
        if how != "token":
            assert results == [ALICE] * THREADS
        else:  # the current token; in the round of an early refresh, also the one before it
            current = conn.token()  # (still valid: nobody waits for an early refresh)
            assert set(results) <= {current, before} and current in results
            before = current
        clock.advance(STEP)
    issued = _expected_tokens((rounds - 1) * STEP)
    assert conn.tokens_issued == len(emu.token_requests()) == issued == 5
    assert conn.rejections == 0


class GatedProvider:
    """Wraps a provider: its sign-ins wait until the test opens the gate."""

    def __init__(self, inner: TokenProvider) -> None:
        self.inner = inner
        self.audience = inner.audience
        self.entered = threading.Event()
        self.gate = threading.Event()

    def fetch(self) -> Token:
        """Tell the test the sign-in started, wait for the gate, then sign in for real."""
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return self.inner.fetch()


def _spawn(work: Callable[[], Any]) -> Tuple[List[threading.Thread], List[Any]]:
    """Start THREADS calls of ``work``; the list fills with each outcome (result or error)."""
    results: List[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            outcome: Any = work()
        except Exception as exc:  # noqa: BLE001 - each thread's outcome is inspected
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    return threads, results


def _open_and_join(provider: GatedProvider, threads: List[threading.Thread]) -> None:
    provider.gate.set()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads), "a thread never returned: deadlock"


def _all_wait_for_one_sign_in(
    conn: Connection, provider: GatedProvider, work: Callable[[], Any]
) -> List[Any]:
    """Start THREADS calls of ``work``; open the gate once every thread waits (the leader
    at the gate, the others for the leader's sign-in)."""
    threads, results = _spawn(work)
    assert provider.entered.wait(30)
    while sum(blocked_in_wait(t) for t in threads) < THREADS:  # leader waits on the gate
        threading.Event().wait(0.005)
    _open_and_join(provider, threads)
    return results


def _others_return_while_one_refreshes(
    provider: GatedProvider, work: Callable[[], Any]
) -> List[Any]:
    """Start THREADS calls of ``work``; all but the one at the gate must return before it
    opens (nobody waits for an early refresh), then the last one returns too."""
    threads, results = _spawn(work)
    assert provider.entered.wait(30)
    while len(results) < THREADS - 1:  # hangs (test timeout) if anyone waits for the gate
        threading.Event().wait(0.005)
    assert len(results) == THREADS - 1 and not provider.gate.is_set()
    _open_and_join(provider, threads)
    return results


def _gate(conn: Connection) -> GatedProvider:
    handler = conn.handler()
    gated = GatedProvider(handler.provider)
    handler.provider = gated
    return gated


FAILURES = [
    pytest.param("status", {"status": 503}, ArcGISServiceError, id="503"),
    pytest.param("reset", {}, TransportError, id="reset"),
]


@pytest.mark.parametrize("kind, options, error", FAILURES)
def test_a_failed_refresh_reaches_all_32_waiters_and_the_next_call_tries_again(
    emu: Emulator,
    clock: ManualClock,
    kind: str,
    options: Dict[str, Any],
    error: Type[ArcTokenError],
) -> None:
    conn = _conn(emu, clock)
    session = conn.session()
    conn.token()
    for attempt in range(1, 3):  # the token service fails twice in a row
        clock.advance(LIFETIME)  # the token has expired: every call needs the refresh
        emu.inject_fault("generateToken", kind, **options)
        gated = _gate(conn)
        results = _all_wait_for_one_sign_in(
            conn, gated, lambda: session.get(emu.service_url, params={"f": "json"})
        )
        assert all(isinstance(r, error) for r in results)
        assert len({id(r) for r in results}) == 1  # the leader's one error, shared
        assert len(emu.token_requests()) == 1 + attempt  # one sign-in per failed refresh
    results = in_threads(THREADS, lambda: conn.request_json("GET", emu.service_url)["user"])
    assert results == [ALICE] * THREADS
    assert len(emu.token_requests()) == 4 and conn.tokens_issued == 2


def test_32_threads_on_a_token_in_its_refresh_window_keep_working_when_the_refresh_fails(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _conn(emu, clock)
    first = conn.token()
    clock.advance(LIFETIME - advisory_margin(LIFETIME) + 1)  # refresh due, token still good
    emu.inject_fault("generateToken", "status", status=503)
    gated = _gate(conn)
    results = _others_return_while_one_refreshes(gated, conn.token)
    assert results == [first] * THREADS  # the valid token carries on
    assert len(in_threads(THREADS, conn.token)) == THREADS
    assert len(emu.token_requests()) == 2  # and no one hammers the failing service
    clock.advance(advisory_margin(LIFETIME) / 2)  # past the quiet period: try again
    assert conn.token() != first
    assert len(emu.token_requests()) == 3
