"""Early refresh never makes a holder of a valid token wait: a real, slow token service.

The token service is an HTTP server on 127.0.0.1 whose ``generateToken`` blocks on an Event
until the test releases it. While one caller's advisory refresh hangs there, every other
caller must get the current token back; only a caller whose token is in the mandatory window
waits, and it shares the one sign-in in flight. No timing is asserted: the order of events
proves it (the other callers return while the sign-in is still held at the server).
"""

from __future__ import annotations

import email.utils
import http.server
import json
import threading
from typing import Any, Iterator, List

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.tokens.refresh import (
    RefreshState,
    advisory_margin,
    mandatory_margin,
    refresh_state,
)
from arctoken_core.tokens.token import Token
from tests.support import connect, in_threads
from tests.waiting import until_blocked_in_wait

pytestmark = pytest.mark.timeout(60)

LIFETIME = 3600.0


class SlowTokenService:
    """A standalone ArcGIS Server whose token service answers only when the gate is open.

    Its clock (``Date`` header and ``expires``) is the test's ManualClock, so no skew is seen.
    """

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Semaphore(0)
        self.issued: List[str] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/arcgis"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def _handler(self) -> Any:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._reply(owner.info())

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.arrived.release()
                assert owner.gate.wait(30), "the test never released the token service"
                self._reply(owner.new_token())

            def _reply(self, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def date_time_string(self, timestamp: Any = None) -> str:
                return email.utils.formatdate(owner.clock(), usegmt=True)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    def info(self) -> Any:
        """What ``/rest/info`` says: token security, the token service on this origin."""
        tokens = self.url + "/tokens/"
        return {
            "currentVersion": 11.3,
            "authInfo": {"isTokenBasedSecurity": True, "tokenServicesUrl": tokens},
        }

    def new_token(self) -> Any:
        """A generateToken reply: a numbered token living LIFETIME on the test's clock."""
        value = f"slow-token-{len(self.issued) + 1:04d}-" + "s" * 24
        self.issued.append(value)
        expires = int((self.clock() + LIFETIME) * 1000)
        return {"token": value, "expires": expires, "ssl": False}

    def wait_for_a_sign_in(self) -> None:
        """Return once a generateToken request reached the server (held while gated)."""
        assert self.arrived.acquire(timeout=30), "no sign-in reached the token service"

    def stop(self) -> None:
        """Let everyone through, stop serving and close the socket."""
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow(clock: ManualClock) -> Iterator[SlowTokenService]:
    service = SlowTokenService(clock)
    yield service
    service.stop()


def _signed_in(slow: SlowTokenService, clock: ManualClock) -> tuple[Connection, Token]:
    conn = connect("server", slow.url, clock, timeout=30)
    first = conn.handler().token()
    slow.wait_for_a_sign_in()  # the first sign-in's arrival, already answered
    return conn, first


def _start(work: Any) -> tuple[threading.Thread, List[Any]]:
    box: List[Any] = []
    thread = threading.Thread(target=lambda: box.append(work()), daemon=True)
    thread.start()
    return thread, box


def test_callers_with_a_valid_token_never_wait_for_another_threads_early_refresh(
    slow: SlowTokenService, clock: ManualClock
) -> None:
    conn, first = _signed_in(slow, clock)
    clock.advance(LIFETIME - advisory_margin(LIFETIME) + 1)  # advisory window
    slow.gate.clear()
    refresher, refreshed = _start(conn.token)
    slow.wait_for_a_sign_in()  # its refresh now hangs at the token service
    assert in_threads(16, conn.token) == [first.value] * 16  # nobody waited for it
    assert refresher.is_alive() and not refreshed  # the refresh is still in flight
    assert len(slow.issued) == 1  # and it is the only one: 16 callers, no second sign-in
    slow.gate.set()
    refresher.join(30)
    assert refreshed == [slow.issued[1]]
    assert conn.token() == slow.issued[1] and conn.tokens_issued == 2


def test_a_caller_in_the_mandatory_window_waits_for_the_refresh_in_flight(
    slow: SlowTokenService, clock: ManualClock
) -> None:
    conn, first = _signed_in(slow, clock)
    clock.advance(LIFETIME - advisory_margin(LIFETIME) + 1)
    slow.gate.clear()
    refresher, refreshed = _start(conn.token)
    slow.wait_for_a_sign_in()
    clock.advance(advisory_margin(LIFETIME))  # now the old token may no longer be used
    late, got = _start(conn.token)
    until_blocked_in_wait(late)  # it joined the sign-in in flight
    slow.gate.set()
    refresher.join(30)
    late.join(30)
    assert got == refreshed == [slow.issued[1]]
    assert len(slow.issued) == 2  # one sign-in between them
    assert not slow.arrived.acquire(blocking=False)


@pytest.mark.parametrize(
    "remaining, state",
    [
        (3600.0, RefreshState.FRESH),
        (advisory_margin(LIFETIME) + 0.5, RefreshState.FRESH),
        (advisory_margin(LIFETIME), RefreshState.ADVISORY),
        (mandatory_margin(LIFETIME) + 0.5, RefreshState.ADVISORY),
        (mandatory_margin(LIFETIME), RefreshState.MANDATORY),
        (-1.0, RefreshState.MANDATORY),
    ],
)
def test_refresh_state_names_the_window_of_a_token(remaining: float, state: RefreshState) -> None:
    now = 1_800_000_000.0
    token = Token("state-token-" + "t" * 24, now + remaining, now + remaining - LIFETIME)
    assert refresh_state(token, now) is state


def test_no_token_is_the_mandatory_window() -> None:
    assert refresh_state(None, 0.0) is RefreshState.MANDATORY
