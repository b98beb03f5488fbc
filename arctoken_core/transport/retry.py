"""Retries through urllib3's own ``Retry``: which failures are retried, and how long to wait.

Idempotent calls are retried on connection errors, timeouts, 429 and 5xx; any call (a POST
too) is retried when the connection was never made, since then nothing reached the server.
A TLS or proxy failure is never retried: trying again cannot change the answer. The waits
double from ``backoff`` up to ``cap``; a ``Retry-After`` (seconds or an HTTP date) is honoured
up to ``cap``. The wait goes to an injectable ``sleep``, so tests record it instead.
"""

from __future__ import annotations

import math
import time
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Callable, Optional

from urllib3.exceptions import ProxyError, SSLError
from urllib3.util.retry import Retry

from ..secrets import get_logger

if TYPE_CHECKING:
    from types import TracebackType

    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

__all__ = ["IDEMPOTENT", "RETRY_STATUSES", "BackoffRetry", "Sleep", "retry_after_seconds"]

log = get_logger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], None]


class BackoffRetry(Retry):
    """urllib3's Retry with this package's schedule, Retry-After cap and injectable sleep."""

    def __init__(
        self,
        total: Any = 3,
        *args: Any,
        backoff: float = 0.5,
        cap: float = 30.0,
        sleeper: Sleep = time.sleep,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("allowed_methods", IDEMPOTENT)
        kwargs.setdefault("status_forcelist", RETRY_STATUSES)
        kwargs.setdefault("raise_on_status", False)
        kwargs.setdefault("raise_on_redirect", False)
        super().__init__(total, *args, **kwargs)
        self.backoff = backoff
        self.cap = cap
        self.sleeper = sleeper

    def new(self, **kw: Any) -> BackoffRetry:
        """The next state (urllib3 calls this on each retry), keeping the schedule and sleep."""
        fresh: BackoffRetry = super().new(**kw)  # type: ignore[assignment]
        fresh.backoff, fresh.cap, fresh.sleeper = self.backoff, self.cap, self.sleeper
        return fresh

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Only RETRY_STATUSES of idempotent methods (urllib3 alone would also retry a 413)."""
        return self._is_method_retryable(method) and status_code in RETRY_STATUSES

    def increment(
        self,
        method: Optional[str] = None,
        url: Optional[str] = None,
        response: Optional[BaseHTTPResponse] = None,
        error: Optional[Exception] = None,
        _pool: Optional[ConnectionPool] = None,
        _stacktrace: Optional[TracebackType] = None,
    ) -> BackoffRetry:
        """Count one more failure; a TLS or proxy failure is raised at once, never retried.

        Only a connection that was never made is retried for any method; a failure after
        the request went out is retried for idempotent methods alone.
        """
        if isinstance(error, (SSLError, ProxyError)):
            raise error
        if error is not None and not self._is_connection_error(error):
            if not self._is_method_retryable(method or ""):
                raise error
        return super().increment(  # type: ignore[return-value]
            method, url, response, error, _pool, _stacktrace
        )

    def get_backoff_time(self) -> float:
        """``backoff`` doubled per consecutive failure so far (the first wait is ``backoff``)."""
        failures = len(self.history)
        if failures == 0:
            return 0.0
        return float(min(self.backoff * (2 ** (failures - 1)), self.cap))

    def sleep(self, response: Optional[BaseHTTPResponse] = None) -> None:
        """Wait before the next try: the reply's Retry-After (capped), else the backoff."""
        delay = self.get_backoff_time()
        if response is not None:
            wanted = retry_after_seconds(response.headers.get("Retry-After"))
            if wanted is not None:
                delay = max(0.0, min(wanted, self.cap))
        last = self.history[-1] if self.history else None
        if last is not None:
            why = type(last.error).__name__ if last.error else f"HTTP {last.status}"
            log.info("retrying %s %s after %s (%.1fs)", last.method, last.url, why, delay)
        self.sleeper(delay)


def retry_after_seconds(header: Optional[str]) -> Optional[float]:
    """Seconds a ``Retry-After`` header asks to wait (a number or an HTTP date), or None.

    An HTTP date that is not in the future says nothing useful: None (the backoff applies).
    """
    text = (header or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are in GMT
        when = when.replace(tzinfo=timezone.utc)
    seconds = when.timestamp() - time.time()
    return seconds if seconds > 0 else None
