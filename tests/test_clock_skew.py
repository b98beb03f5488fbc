"""A server clock far off ours: corrected for when its token agrees, never a sign-in loop."""

from __future__ import annotations

import email.utils
import logging
from typing import Dict, Iterator

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.errors import ClockError
from arctoken_core.tokens.handler import TokenHandler
from arctoken_core.tokens.token import Token, clock_skew
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.support import connect

pytestmark = pytest.mark.timeout(60)

DAYS_400 = 400 * 86400.0


@pytest.fixture
def behind(clock: ManualClock) -> Iterator[Emulator]:
    """The emulator with a server clock 400 days behind ours."""
    with Emulator(
        users={ALICE: ALICE_PASSWORD}, clock=clock, server_clock_offset=-DAYS_400
    ) as emulator:
        yield emulator


@pytest.mark.parametrize("kind", ["server", "portal"])
def test_a_server_400_days_behind_costs_one_sign_in_and_a_warning(
    behind: Emulator, clock: ManualClock, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = behind.server_url if kind == "server" else behind.portal_url
    conn = connect(kind, url, clock)
    caplog.set_level(logging.WARNING)
    tokens = {conn.token() for _ in range(10)}
    assert len(tokens) == 1 and len(behind.token_requests()) == 1
    assert "400 days behind this computer's" in caplog.text
    if kind == "server":  # and the token works
        assert conn.request_json("GET", behind.service_url)["user"] == ALICE


def _date(epoch: float) -> Dict[str, str]:
    return {"Date": email.utils.formatdate(epoch, usegmt=True)}


def test_a_year_of_skew_is_believed_only_when_the_token_agrees() -> None:
    local = 1_800_000_000.0
    server = local - DAYS_400
    fresh_on_server = (server + 3600) * 1000
    assert clock_skew(_date(server), local, fresh_on_server) == pytest.approx(-DAYS_400)
    assert clock_skew(_date(server), local, (local + 3600) * 1000) == 0.0  # a broken header
    assert clock_skew(_date(server), local) == 0.0
    assert clock_skew(_date(server), local, "not a time") == 0.0


class ExpiredProvider:
    """A token service whose tokens have expired by our clock when they arrive."""

    audience = "https://gis.example.com/portal"

    def __init__(self, clock: ManualClock) -> None:
        self.clock, self.calls = clock, 0

    def fetch(self) -> Token:
        self.calls += 1
        now = self.clock()
        return Token(f"expired-token-{self.calls:04d}-xxxxxx", now - 60, now)


def test_a_token_expired_on_arrival_names_the_clock_and_is_not_fetched_again(
    clock: ManualClock,
) -> None:
    provider = ExpiredProvider(clock)
    handler = TokenHandler(provider, clock)
    for _ in range(10):
        with pytest.raises(ClockError, match="clock of this computer or of the server"):
            handler.token()
    assert provider.calls == 1
    handler.reset()  # the clock was set right: try again
    with pytest.raises(ClockError):
        handler.token()
    assert provider.calls == 2
