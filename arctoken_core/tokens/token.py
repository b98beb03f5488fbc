"""The token value object and the three units ArcGIS uses for its lifetime.

``expiration`` (request) is MINUTES, OAuth ``expires_in`` is SECONDS, ``expires`` is epoch
MILLISECONDS (a number or a numeric string), and ``arcpy.GetSigninToken`` gives epoch SECONDS.
Everything here ends as ``expires_at``: epoch seconds on the LOCAL clock, already corrected
for a server whose clock is off, so comparing it with ``clock()`` is always right.
"""

from __future__ import annotations

import datetime
import email.utils
from typing import Any, Dict, Mapping, NamedTuple, Optional, Union

from ..errors import ResponseFormatError
from ..secrets import get_logger, mask_token, register_token

log = get_logger(__name__)

_SECONDS_VS_MS = 1e11
"""Epoch values below this are seconds (year 5138 in seconds; 1973 in milliseconds)."""

_MIN_SKEW_TO_CORRECT = 2.0
"""Date headers have 1 s resolution; smaller differences are noise, not skew."""

_MAX_TOKEN_LENGTH = 16384
"""Far above any real token (a few hundred characters), far below what breaks a header."""

_MAX_SKEW = 366 * 86400.0
"""Clock differences above a year come from a broken ``Date`` header: not corrected for,
unless the token's own expiry agrees with the header (then a clock really is that far off)."""

_LAST_SECOND = 253402300799.0
"""23:59:59 UTC on 31 December 9999: the last instant a ``datetime`` can show."""


class _TokenFields(NamedTuple):
    value: str
    expires_at: float
    issued_at: float
    referer: Optional[str] = None
    ssl: bool = False
    audience: str = ""


class Token(_TokenFields):
    """A token and what the holder must know to use it (immutable).

    ``expires_at`` is local epoch seconds (skew-corrected); ``issued_at`` is when it arrived.
    """

    __slots__ = ()

    def __new__(
        cls,
        value: str,
        expires_at: float,
        issued_at: float,
        referer: Optional[str] = None,
        ssl: bool = False,
        audience: str = "",
    ) -> Token:
        """A token, registered at once so that every log and error message masks it."""
        register_token(value)
        return super().__new__(cls, value, expires_at, issued_at, referer, ssl, audience)

    @property
    def lifetime(self) -> float:
        """Seconds between issue and expiry (never negative)."""
        return max(0.0, self.expires_at - self.issued_at)

    def remaining(self, now: float) -> float:
        """Seconds left at ``now`` (negative once expired)."""
        return self.expires_at - now

    def __repr__(self) -> str:
        return (
            f"Token({mask_token(self.value)}, expires_at={self.expires_at:.0f}, "
            f"audience={self.audience!r})"
        )


def epoch_seconds(value: Union[int, float, str, None], field_name: str = "expires") -> float:
    """Read an epoch timestamp that may be seconds or milliseconds, number or numeric string."""
    if value is None or isinstance(value, bool):
        raise ResponseFormatError(f"the token reply has no usable '{field_name}'")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond a float
        raise ResponseFormatError(
            f"the token reply's '{field_name}' is not a number: {str(value)[:20]!r}"
        ) from None
    seconds = number / 1000.0 if number >= _SECONDS_VS_MS else number
    # NaN, infinity, before 1970 or after 9999 (no date can show it): nonsense, not a time
    if not 0 < seconds <= _LAST_SECOND:
        raise ResponseFormatError(f"the token reply's '{field_name}' is not a valid time")
    return seconds


def usable_token(value: object) -> bool:
    """True for a token that can travel in a header: printable ASCII, no spaces.

    Real tokens are base64-like; anything else (a control character, a line break, a
    non-ASCII letter) would fail or split the HTTP header it is sent in.
    """
    return (
        isinstance(value, str)
        and 0 < len(value) <= _MAX_TOKEN_LENGTH
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


def usable_referer(value: object) -> bool:
    """True for a referer that can travel in the Referer header: one line of printable
    ASCII without surrounding spaces (a server drops them, and then refuses every request)."""
    return (
        isinstance(value, str)
        and bool(value)
        and value == value.strip()
        and value.isascii()
        and value.isprintable()
    )


def clock_skew(
    headers: Mapping[str, str], local_now: float, server_expires: Optional[object] = None
) -> float:
    """Seconds the server's clock is ahead of ours, from its ``Date`` header (0 when unknown).

    Small differences (under 2 s) are the header's resolution and the round trip, not skew.
    A difference above a year is believed only when ``server_expires`` (the reply's
    ``expires``) agrees with the header, i.e. the token is fresh by the server's own clock:
    otherwise every token of a server 400 days behind would look expired on arrival, and
    each call would sign in again. Such a skew is corrected for, with a warning.
    """
    date = headers.get("Date") or headers.get("date")
    if not date:
        return 0.0
    try:
        server_now = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0
    skew = server_now - local_now
    if abs(skew) > _MAX_SKEW:  # a broken Date header, unless the token agrees with it
        if not _fresh_on_server(server_expires, server_now):
            return 0.0
        log.warning(
            "the server's clock is %.0f days %s this computer's (its Date header and its "
            "token agree); correcting for it. Set the right time on this computer or the server",
            abs(skew) / 86400,
            "ahead of" if skew > 0 else "behind",
        )
    return skew if abs(skew) >= _MIN_SKEW_TO_CORRECT else 0.0


def _fresh_on_server(server_expires: Optional[object], server_now: float) -> bool:
    """True when ``server_expires`` is a time after ``server_now``, within a year of it."""
    if not isinstance(server_expires, (int, float, str)):
        return False
    try:
        expires = epoch_seconds(server_expires)
    except ResponseFormatError:
        return False
    return 0 < expires - server_now <= _MAX_SKEW


def to_local(server_epoch: float, skew: float) -> float:
    """Convert a server-clock instant to the local clock."""
    return server_epoch - skew


def local_expiry(value: Union[int, float, str, None], skew: float) -> float:
    """A reply's ``expires`` on the local clock; ResponseFormatError when no date can show it.

    Checked after the skew correction too, so that the CLI and the toolbox can always print
    the expiry as a date.
    """
    local = to_local(epoch_seconds(value), skew)
    if not 0 < local <= _LAST_SECOND:
        raise ResponseFormatError("the token reply's 'expires' is not a valid time")
    return local


def iso_utc(epoch: float) -> str:
    """An epoch instant as ISO 8601 in UTC, to the millisecond: ``2027-01-15T08:00:00.000Z``."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def token_document(token: Token, url: str) -> Dict[str, Any]:
    """What ``arctoken token --json`` prints and a token file holds.

    ``token``, ``expires`` (epoch MILLISECONDS, as ArcGIS gives it), ``expires_iso``,
    ``referer`` and ``url`` (the portal or server the token is for).
    """
    return {
        "token": token.value,
        "expires": int(round(token.expires_at * 1000)),
        "expires_iso": iso_utc(token.expires_at),
        "referer": token.referer,
        "url": url,
    }
