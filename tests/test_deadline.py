"""A total deadline per exchange: a reply dripping in byte by byte cannot keep it alive."""

from __future__ import annotations

import http.server
import time
from typing import List

import pytest

from arctoken_core.errors import TransportError
from arctoken_core.transport.failures import call
from arctoken_core.transport.session import make_session
from arctoken_core.transport.settings import HttpSettings
from tests.scripted import ScriptedServer
from tests.support import Recorded, SleepLog

pytestmark = pytest.mark.timeout(60)


def _drip(handler: http.server.BaseHTTPRequestHandler, seen: Recorded) -> None:
    """Headers at once, then one byte every 0.2 s: each read is quick, the whole is endless."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    try:
        for _ in range(300):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        return


def _drip_headers(handler: http.server.BaseHTTPRequestHandler, seen: Recorded) -> None:
    """The status line and then header lines, one every 0.2 s, forever."""
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for number in range(300):
            handler.wfile.write(f"X-Slow-{number}: 1\r\n".encode())
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        return


@pytest.mark.parametrize("route", [_drip, _drip_headers], ids=["body", "headers"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_dripping_reply_ends_at_the_total_deadline(route: object, method: str) -> None:
    sleeps = SleepLog()
    settings = HttpSettings(timeout=(2.0, 2.0), deadline=1.0, retries=2)
    with ScriptedServer({"/slow": route}) as server:  # type: ignore[dict-item]
        session = make_session(settings, sleep=sleeps)
        with pytest.raises(TransportError) as err:
            call(session, method, server.url + "/slow", data={"password": "x"}, what="sign-in")
        assert "did not answer in time" in str(err.value)
        assert len(server.received) == 1  # not retried past the deadline
        session.close()


def test_the_default_deadline_covers_the_timeouts() -> None:
    assert HttpSettings().total_seconds() == 300.0
    assert HttpSettings(timeout=(10.0, 600.0)).total_seconds() == 1210.0
    assert HttpSettings(deadline=5.0).total_seconds() == 5.0


def test_finished_deadlines_do_not_pile_up_while_the_watcher_sleeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watcher is not woken for every exchange, yet drops the finished ones it holds."""
    from arctoken_core.transport import deadline

    wakes: List[None] = []
    notify = deadline._WATCHER._cond.notify
    monkeypatch.setattr(deadline._WATCHER._cond, "notify", lambda: wakes.append(notify()))
    exchanges = 20 * deadline._TIDY_AT
    for _ in range(exchanges):
        with deadline.Deadline(300.0):
            pass
    assert len(wakes) < exchanges / 4, "a thread switch for most exchanges"
    give_up = time.monotonic() + 10
    while len(deadline._WATCHER._heap) > deadline._TIDY_AT + 1 and time.monotonic() < give_up:
        time.sleep(0.01)
    assert len(deadline._WATCHER._heap) <= deadline._TIDY_AT + 1


def test_a_shorter_deadline_after_a_long_one_still_cuts_in_time() -> None:
    """A new deadline earlier than every watched one wakes the watcher to wait less."""
    from arctoken_core.transport import deadline

    with deadline.Deadline(300.0):
        with deadline.Deadline(0.2) as short:
            give_up = time.monotonic() + 10
            while not short.passed and time.monotonic() < give_up:
                time.sleep(0.01)
    assert short.passed
