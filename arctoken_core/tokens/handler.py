"""TokenHandler: the token for one audience, always valid when handed out.

Modelled on botocore's RefreshableCredentials: two windows before expiry.

- advisory window (``advisory_margin``): try to refresh; if that fails, keep using the
  current token (it is still valid) and try again a little later;
- mandatory window (``mandatory_margin``): the refresh must succeed, or the caller gets the
  error, because a request started now could arrive after expiry.

The margins scale with the token's lifetime and are capped: 10 % of the lifetime, at most
5 minutes (advisory), and 5 %, at most 1 minute (mandatory). A two-week token is refreshed 5
minutes early, not days early; a one-minute token 6 s early, not 5 minutes early (which
would mean refreshing on every call). The caps leave time for a slow token service; the
percentages leave room for the round trip and the 1 s resolution of ``Date`` headers.

One refresh at a time: the first thread to need a token does the sign-in, the others wait
and share its result (its token, or its error). Refused credentials latch: the handler does
not sign in again by itself until :meth:`reset` (accounts lock after a few failures).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, List, Optional

from ..clock import Clock, system_clock
from ..errors import ArcTokenError, AuthenticationError
from ..secrets import get_logger, mask_token
from .provider import TokenProvider
from .token import Token

log = get_logger(__name__)

ADVISORY_FRACTION, ADVISORY_CAP = 0.10, 300.0
MANDATORY_FRACTION, MANDATORY_CAP = 0.05, 60.0
RETRY_QUIET_FRACTION = 0.25
"""After a failed advisory refresh, wait this share of the advisory window before retrying."""

Listener = Callable[[Token, int], None]


@dataclass
class HandlerStats:
    """What the handler did: tokens obtained, refreshes among them, failed attempts."""

    issued: int = 0
    failures: int = 0

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


def advisory_margin(lifetime: float) -> float:
    """Seconds before expiry at which a refresh is first attempted."""
    return min(ADVISORY_CAP, ADVISORY_FRACTION * max(0.0, lifetime))


def mandatory_margin(lifetime: float) -> float:
    """Seconds before expiry from which the token is no longer handed out."""
    return min(MANDATORY_CAP, MANDATORY_FRACTION * max(0.0, lifetime))


class TokenHandler:
    """Caches the token of one audience and refreshes it ahead of expiry, one sign-in at a time."""

    def __init__(self, provider: TokenProvider, clock: Clock = system_clock) -> None:
        self.provider = provider
        self.clock = clock
        self.stats = HandlerStats()
        self._token: Optional[Token] = None
        self._last_value: Optional[str] = None
        self._attempt: Optional[_Attempt] = None
        self._latched: Optional[AuthenticationError] = None
        self._quiet_until = 0.0
        self._lock = threading.Lock()
        self._listeners: List[Listener] = []

    @property
    def audience(self) -> str:
        """Who the tokens are for (a portal or server root)."""
        return self.provider.audience

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(token, issued_count)`` after every successful sign-in."""
        self._listeners.append(listener)

    def token(self) -> Token:
        """A token valid for at least the mandatory margin; signs in only when needed."""
        with self._lock:
            current = self._token
            now = self.clock()
            if current is not None and not self._needs_refresh(current, now):
                return current
            usable = current is not None and self._usable(current, now)
            if usable and (self._latched or now < self._quiet_until):
                return current  # type: ignore[return-value]
            if self._latched:
                raise self._latched
            attempt, leader = self._join_or_start()
        if leader:
            self._run(attempt)
        attempt.done.wait()
        if attempt.token is not None:
            return attempt.token
        assert attempt.error is not None
        if usable and current is not None and self._usable(current, self.clock()):
            log.warning("token refresh failed; using the current token a little longer")
            return current
        raise attempt.error

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

    def _needs_refresh(self, token: Token, now: float) -> bool:
        return token.remaining(now) <= advisory_margin(token.lifetime)

    def _usable(self, token: Token, now: float) -> bool:
        return token.remaining(now) > mandatory_margin(token.lifetime)

    def _join_or_start(self) -> tuple[_Attempt, bool]:
        if self._attempt is not None:
            return self._attempt, False
        self._attempt = _Attempt()
        return self._attempt, True

    def _run(self, attempt: _Attempt) -> None:
        try:
            token = self.provider.fetch()
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, then re-raised
            self._finish(attempt, None, exc)
        else:
            self._finish(attempt, token, None)

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
                if isinstance(error, AuthenticationError):
                    self._latched = error
                elif isinstance(error, ArcTokenError) and self._token is not None:
                    window = advisory_margin(self._token.lifetime)
                    self._quiet_until = self.clock() + RETRY_QUIET_FRACTION * window
            self._attempt = None
        attempt.done.set()
        if token is not None and new:
            for listener in list(self._listeners):
                listener(token, issued)
