"""TokenHandler without HTTP: margins, single flight, failures, latching (a fake provider)."""

from __future__ import annotations

import threading
from typing import List, Optional

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.errors import AuthenticationError, TransportError
from arctoken_core.tokens.handler import TokenHandler
from arctoken_core.tokens.refresh import advisory_margin, mandatory_margin
from arctoken_core.tokens.token import Token


class FakeProvider:
    """Issues numbered tokens of a fixed lifetime; can fail or stall on demand."""

    audience = "https://portal.example/portal"

    def __init__(self, clock: ManualClock, lifetime: float) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.fail_with: Optional[BaseException] = None
        self.gate: Optional[threading.Event] = None

    def fetch(self) -> Token:
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        now = self.clock()
        return Token(f"token-number-{self.calls:04d}-xxxx", now + self.lifetime, now)


@pytest.mark.parametrize(
    "lifetime, advisory, mandatory",
    [(14 * 86400, 300, 60), (3600, 300, 60), (60, 6, 3), (2, 0.2, 0.1)],
)
def test_margins_suit_two_week_and_one_minute_tokens(
    lifetime: float, advisory: float, mandatory: float
) -> None:
    assert advisory_margin(lifetime) == pytest.approx(advisory)
    assert mandatory_margin(lifetime) == pytest.approx(mandatory)


def test_token_is_reused_until_the_advisory_window(clock: ManualClock) -> None:
    provider = FakeProvider(clock, 3600)
    handler = TokenHandler(provider, clock)
    first = handler.token()
    clock.advance(3600 - 301)
    assert handler.token() is first
    clock.advance(2)
    assert handler.token() is not first
    assert provider.calls == 2 and handler.stats.refreshes == 1


def test_sixteen_threads_share_one_refresh(clock: ManualClock) -> None:
    provider = FakeProvider(clock, 60)
    handler = TokenHandler(provider, clock)
    handler.token()
    clock.advance(59)  # past the mandatory window: nobody may use the old token
    provider.gate = threading.Event()
    seen: List[str] = []
    threads = [
        threading.Thread(target=lambda: seen.append(handler.token().value)) for _ in range(16)
    ]
    for t in threads:
        t.start()
    while provider.calls < 2:
        threading.Event().wait(0.01)
    provider.gate.set()
    for t in threads:
        t.join(10)
    assert provider.calls == 2
    assert len(seen) == 16 and len(set(seen)) == 1


def test_failed_refresh_reaches_every_waiter_and_the_next_call_tries_again(
    clock: ManualClock,
) -> None:
    provider = FakeProvider(clock, 60)
    handler = TokenHandler(provider, clock)
    provider.fail_with = TransportError("down")
    provider.gate = threading.Event()
    errors: List[BaseException] = []

    def call() -> None:
        try:
            handler.token()
        except TransportError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    while provider.calls < 1:
        threading.Event().wait(0.01)
    threading.Event().wait(0.05)
    provider.gate.set()
    for t in threads:
        t.join(10)
    assert len(errors) == 8 and provider.calls == 1
    provider.fail_with, provider.gate = None, None
    assert handler.token().value.startswith("token-number-0002")


def test_advisory_failure_keeps_the_valid_token(clock: ManualClock) -> None:
    provider = FakeProvider(clock, 3600)
    handler = TokenHandler(provider, clock)
    first = handler.token()
    clock.advance(3600 - 200)  # advisory window, still far from the mandatory one
    provider.fail_with = TransportError("token service down")
    assert handler.token() is first
    assert handler.token() is first  # quiet period: no second attempt right away
    assert provider.calls == 2
    clock.advance(141)  # now inside the mandatory window
    with pytest.raises(TransportError):
        handler.token()


def test_refused_credentials_latch_and_are_never_retried(clock: ManualClock) -> None:
    provider = FakeProvider(clock, 60)
    provider.fail_with = AuthenticationError("refused")
    handler = TokenHandler(provider, clock)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            handler.token()
    assert provider.calls == 1
    handler.reset()
    provider.fail_with = None
    assert handler.token()
    assert provider.calls == 2


def test_invalidate_drops_only_that_token(clock: ManualClock) -> None:
    provider = FakeProvider(clock, 3600)
    handler = TokenHandler(provider, clock)
    first = handler.token()
    handler.invalidate("some-other-token")
    assert handler.token() is first
    handler.invalidate(first.value)
    assert handler.token() is not first
    handler.invalidate(first.value)  # a late 498 for the old token changes nothing
    assert provider.calls == 2


def test_the_same_token_handed_back_is_not_counted_as_a_refresh(clock: ManualClock) -> None:
    """ArcGIS Pro gives its current token until it refreshes it itself."""
    from arctoken_core.signin.pro import ProSigninProvider

    pro = {"token": "pro-token-" + "p" * 30, "expires": clock() + 3600, "referer": "pro"}
    handler = TokenHandler(ProSigninProvider(lambda: dict(pro), audience="a", clock=clock), clock)
    seen: List[int] = []
    handler.add_listener(lambda token, issued: seen.append(issued))
    first = handler.token()
    clock.advance(3600 - 200)  # advisory window: Pro is asked again, still has the same token
    assert handler.token() is first and handler.token().lifetime == 3600
    pro.update(token="pro-token-" + "q" * 30, expires=clock() + 3600)
    assert handler.token() is not first
    assert handler.stats.issued == 2 and seen == [1, 2]


def _refresh_in_thread(handler: TokenHandler) -> tuple[threading.Thread, List[Token]]:
    got: List[Token] = []
    thread = threading.Thread(target=lambda: got.append(handler.token()), daemon=True)
    thread.start()
    return thread, got


def test_in_the_advisory_window_one_caller_refreshes_and_nobody_waits_for_it(
    clock: ManualClock,
) -> None:
    provider = FakeProvider(clock, 3600)
    handler = TokenHandler(provider, clock)
    seen: List[int] = []
    handler.add_listener(lambda token, issued: seen.append(issued))
    first = handler.token()
    clock.advance(3600 - 200)  # advisory window
    provider.gate = threading.Event()
    refresher, got = _refresh_in_thread(handler)
    while provider.calls < 2:  # the refresher is at the gate
        threading.Event().wait(0.005)
    assert [handler.token() for _ in range(5)] == [first] * 5  # returned, not waited
    assert refresher.is_alive() and provider.calls == 2  # one refresh, still in flight
    provider.gate.set()
    refresher.join(10)
    assert got and got[0] is not first and handler.token() is got[0]
    assert handler.stats.issued == 2 and handler.stats.refreshes == 1 and seen == [1, 2]


def test_a_refused_early_refresh_latches_but_keeps_the_valid_token_until_it_must_go(
    clock: ManualClock,
) -> None:
    provider = FakeProvider(clock, 3600)
    handler = TokenHandler(provider, clock)
    first = handler.token()
    clock.advance(3600 - 200)
    provider.fail_with = AuthenticationError("refused")
    assert handler.token() is first and handler.token() is first
    assert provider.calls == 2 and handler.stats.failures == 1
    clock.advance(141)  # mandatory window: the latched refusal is the answer now
    with pytest.raises(AuthenticationError):
        handler.token()
    assert provider.calls == 2
