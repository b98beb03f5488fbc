"""TokenHandler: the token for one audience, always valid when handed out.

Modelled on botocore's RefreshableCredentials, with the windows of :mod:`.refresh`:

- fresh: the token is handed out;
- advisory window: the token is still handed out at once to every caller, and AT MOST ONE
  caller refreshes it. If that refresh fails, everyone keeps the current token (it is still
  valid) and the next try waits a quiet period (a quarter of the advisory window);
- mandatory window, or no token: callers wait for the refresh and share its result (its
  token, or its error); one sign-in between them all (single flight).

Who refreshes early: the caller that finds the advisory window first takes the refresh (a
try-lock: ``_attempt`` is set under the lock, and whoever finds it set does not wait). That
one caller pays for the round trip; nobody else waits for it. A background thread was not
chosen: a sign-in must run where its errors, logs and cancellation belong (a geoprocessing
tool's thread, a process that may fork or exit at any moment), and a daemon thread killed at
interpreter exit could leave a half-done sign-in behind.

Refused credentials, and a token already expired on arrival (a wrong clock), latch: the
handler does not sign in again by itself until :meth:`reset` (accounts lock after a few
failures, and a wrong clock gives only more expired tokens); until the mandatory window a
latched handler keeps handing out its still-valid token.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Callable, List, Optional

from ..clock import Clock, system_clock
from ..errors import ArcTokenError, AuthenticationError, ClockError
from ..secrets import get_logger, mask_token
from .provider import TokenProvider
from .refresh import RefreshState, advisory_margin, mandatory_margin, refresh_state
from .token import Token, iso_utc

log = get_logger(__name__)

__all__ = ["HandlerStats", "Listener", "TokenHandler", "advisory_margin", "mandatory_margin"]

RETRY_QUIET_FRACTION = 0.25
"""After a failed advisory refresh, wait this share of the advisory window before retrying."""

Listener = Callable[[Token, int], None]

_LIVE: weakref.WeakSet[TokenHandler] = weakref.WeakSet()
"""Every handler of this process, so that a forked child can reset them all."""


class HandlerStats:
    """What the handler did: tokens obtained, refreshes among them, failed attempts."""

    __slots__ = ("failures", "issued")

    def __init__(self, issued: int = 0, failures: int = 0) -> None:
        self.issued = issued
        self.failures = failures

    def __repr__(self) -> str:
        return f"HandlerStats(issued={self.issued}, failures={self.failures})"

    @property
    def refreshes(self) -> int:
        """Tokens obtained after the first one."""
        return max(0, self.issued - 1)


class _Attempt:
    """One sign-in in flight, shared by every thread that waits for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.token: Optional[Token] = None
        self.error: Optional[BaseException] = None


class TokenHandler:
    """Caches the token of one audience and refreshes it ahead of expiry, one sign-in at a time."""

    def __init__(self, provider: TokenProvider, clock: Clock = system_clock) -> None:
        self.provider = provider
        self.clock = clock
        self.stats = HandlerStats()
        self._token: Optional[Token] = None
        self._last_value: Optional[str] = None
        self._attempt: Optional[_Attempt] = None
        self._latched: Optional[ArcTokenError] = None
        self._quiet_until = 0.0
        self._lock = threading.Lock()
        self._listeners: List[Listener] = []
        _LIVE.add(self)

    @property
    def audience(self) -> str:
        """Who the tokens are for (a portal or server root)."""
        return self.provider.audience

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(token, issued_count)`` after every successful sign-in."""
        self._listeners.append(listener)

    def token(self) -> Token:
        """A token valid for at least the mandatory margin; waits only when it must.

        Fresh or in the advisory window, the current token comes back at once (the first
        caller of the advisory window refreshes it first, see the module docstring). In the
        mandatory window, or with no token, the caller waits for the one sign-in in flight.
        """
        with self._lock:
            current = self._token
            if current is not None and self._hand_out_now(current, self.clock()):
                return current
            if self._latched:  # and no usable token: only reset() signs in again
                raise self._latched
            attempt, leader = self._join_or_start()
        if leader:
            self._run(attempt)
        attempt.done.wait()
        return self._outcome(attempt, current)

    def invalidate(self, value: str) -> None:
        """Forget the token ``value`` (a server said 498): the next call signs in again.

        Only that exact token is dropped, so many threads reporting the same 498 cause a
        single refresh.
        """
        with self._lock:
            if self._token is not None and self._token.value == value:
                log.info("token %s rejected by a server; it will be refreshed", mask_token(value))
                self._token = None
                self._quiet_until = 0.0

    def reset(self) -> None:
        """Forget a refused sign-in so that the next call tries again (new credentials)."""
        with self._lock:
            self._latched = None
            self._quiet_until = 0.0

    def _after_fork_in_child(self) -> None:
        """In a forked child only the forking thread lives on: a sign-in another thread had
        in flight will never finish there, and the lock may have been held. Start afresh."""
        self._lock = threading.Lock()
        self._attempt = None

    def _hand_out_now(self, token: Token, now: float) -> bool:
        """True when ``token`` goes to the caller without waiting (called under the lock)."""
        state = refresh_state(token, now)
        if state is RefreshState.FRESH:
            return True
        early_refresh_barred = self._latched is not None or now < self._quiet_until
        return state is RefreshState.ADVISORY and (
            early_refresh_barred or self._attempt is not None
        )

    def _usable(self, token: Token) -> bool:
        return refresh_state(token, self.clock()) is not RefreshState.MANDATORY

    def _outcome(self, attempt: _Attempt, current: Optional[Token]) -> Token:
        """The attempt's token; or, when it failed, ``current`` while that is still usable."""
        if attempt.token is not None:
            return attempt.token
        assert attempt.error is not None
        if isinstance(attempt.error, Exception) and current is not None and self._usable(current):
            log.warning("token refresh failed; using the current token a little longer")
            return current
        raise attempt.error

    def _join_or_start(self) -> tuple[_Attempt, bool]:
        if self._attempt is not None:
            return self._attempt, False
        self._attempt = _Attempt()
        return self._attempt, True

    def _run(self, attempt: _Attempt) -> None:
        try:
            token = self._checked(self.provider.fetch())
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, then re-raised
            self._finish(attempt, None, exc)
        else:
            self._finish(attempt, token, None)

    def _checked(self, token: Token) -> Token:
        """``token``, unless it had expired when it arrived: then a clock is wrong, and
        signing in again would only fetch another expired token (ClockError, latched)."""
        now = self.clock()
        if token.remaining(now) > 0:
            return token
        raise ClockError(
            f"the token service gave a token that had already expired when it arrived (it "
            f"expires {iso_utc(token.expires_at)}, this computer says {iso_utc(now)}): the "
            "clock of this computer or of the server is wrong. Set the right time, then run again"
        )

    def _finish(
        self, attempt: _Attempt, token: Optional[Token], error: Optional[BaseException]
    ) -> None:
        with self._lock:
            attempt.token, attempt.error = token, error
            new = token is not None and token.value != self._last_value
            if token is not None:
                self._token, self._last_value = token, token.value
                self.stats.issued += int(new)  # Pro may hand back the token it gave before
                issued = self.stats.issued
            else:
                self.stats.failures += 1
                if isinstance(error, (AuthenticationError, ClockError)):
                    self._latched = error
                elif isinstance(error, ArcTokenError) and self._token is not None:
                    window = advisory_margin(self._token.lifetime)
                    self._quiet_until = self.clock() + RETRY_QUIET_FRACTION * window
            self._attempt = None
        attempt.done.set()
        if token is not None and new:
            for listener in list(self._listeners):
                listener(token, issued)


def _reset_in_child() -> None:
    for handler in list(_LIVE):
        handler._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX; Windows starts processes afresh
    os.register_at_fork(after_in_child=_reset_in_child)
