"""Where a run reports to: the Reporter protocol, its masking wrapper, log forwarding, and
when a token expires (:func:`expiry_of`) shown in local time.

Everything here runs without arcpy: the toolbox adapts ArcGIS Pro's messages and progressor
to :class:`Reporter`, the CLI a terminal, and tests use a list. Every text that passes through
:class:`SafeReporter` or :func:`forward_logs` is redacted first.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Callable, ContextManager, Optional, Protocol

from ..secrets import log_to, mask_token, redact

if TYPE_CHECKING:
    from ..connection import Connection
    from ..tokens.token import Token

__all__ = [
    "Reporter",
    "SafeReporter",
    "expiry_of",
    "forward_logs",
    "local_time",
    "token_listener",
]


class Reporter(Protocol):
    """Where a run reports to: ArcGIS Pro's messages and progressor, a terminal, a test."""

    def info(self, message: str) -> None:
        """An informative message."""
        ...

    def warning(self, message: str) -> None:
        """A warning message."""
        ...

    def progress(self, label: str, percent: Optional[float] = None) -> None:
        """What is happening now, and how far along (0-100) when known."""
        ...


class SafeReporter:
    """A Reporter that masks tokens and passwords before passing text on."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner

    def info(self, message: str) -> None:
        """Pass on a redacted informative message."""
        self.inner.info(redact(str(message)))

    def warning(self, message: str) -> None:
        """Pass on a redacted warning."""
        self.inner.warning(redact(str(message)))

    def progress(self, label: str, percent: Optional[float] = None) -> None:
        """Pass on a redacted progress label; percent is clamped to 0-100."""
        value = None if percent is None else max(0.0, min(100.0, float(percent)))
        self.inner.progress(redact(str(label)), value)


def expiry_of(conn: Connection, token: Token) -> Optional[float]:
    """When ``token`` expires (epoch seconds), or None for an API key given no expiry."""
    if conn.kind == "apikey" and conn.api_key_expires is None:
        return None
    return token.expires_at


def local_time(epoch: Optional[float]) -> str:
    """An instant as people read it: local time to the second, with its UTC offset.

    ``2027-01-15 09:00:00 (UTC+01:00)``; None is ``no expiry``. An instant local time cannot
    show (year 9999 east of UTC) is shown in UTC instead of failing.
    """
    if epoch is None:
        return "no expiry"
    try:
        moment = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return f"{epoch:.0f} (epoch seconds)"
    try:
        moment = moment.astimezone()
    except (OverflowError, OSError, ValueError):
        return f"{moment:%Y-%m-%d %H:%M:%S} (UTC)"
    offset = moment.strftime("%z") or "+0000"
    return f"{moment:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:5]})"


def token_listener(
    reporter: Reporter, refreshes: Callable[[], int]
) -> Callable[[Token, int], None]:
    """A Connection token listener that says who got a token until when (masked).

    ``refreshes`` counts the refreshes so far (``Connection.refreshes``), for the message.
    """

    def listener(token: Token, issued: int) -> None:
        """Say who got a token until when, or that it was refreshed (masked)."""
        until = local_time(token.expires_at)
        shown = mask_token(token.value)
        if issued <= 1:
            reporter.info(f"Signed in for {token.audience}: token {shown} valid until {until}.")
        else:
            reporter.info(
                f"Token for {token.audience} refreshed (#{refreshes()}): {shown} valid "
                f"until {until}."
            )

    return listener


def forward_logs(reporter: Reporter, level: int = logging.WARNING) -> ContextManager[None]:
    """Show the package's log records (already redacted) as messages while the block runs."""
    return log_to(_ReporterHandler(reporter), level)


class _ReporterHandler(logging.Handler):
    """A logging handler that turns records into reporter messages."""

    def __init__(self, reporter: Reporter) -> None:
        super().__init__()
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        """Send the record on: warnings and worse as warnings, the rest as messages."""
        text = redact(record.getMessage())
        if record.levelno >= logging.WARNING:
            self.reporter.warning(text)
        else:
            self.reporter.info(text)
