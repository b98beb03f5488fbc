"""The token value object and the three units ArcGIS uses for its lifetime.

``expiration`` (request) is MINUTES, OAuth ``expires_in`` is SECONDS, ``expires`` is epoch
MILLISECONDS (a number or a numeric string), and ``arcpy.GetSigninToken`` gives epoch SECONDS.
Everything here ends as ``expires_at``: epoch seconds on the LOCAL clock, already corrected
for a server whose clock is off, so comparing it with ``clock()`` is always right.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

from .errors import ResponseFormatError
from .secrets import mask_token, register_secret

_SECONDS_VS_MS = 1e11
"""Epoch values below this are seconds (year 5138 in seconds; 1973 in milliseconds)."""

_MIN_SKEW_TO_CORRECT = 2.0
"""Date headers have 1 s resolution; smaller differences are noise, not skew."""


@dataclass(frozen=True)
class Token:
    """A token and what the holder must know to use it.

    ``expires_at`` is local epoch seconds (skew-corrected); ``issued_at`` is when it arrived.
    """

    value: str = field(repr=False)
    expires_at: float
    issued_at: float
    referer: Optional[str] = None
    ssl: bool = False
    audience: str = ""

    def __post_init__(self) -> None:
        register_secret(self.value)

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
    except (TypeError, ValueError):
        raise ResponseFormatError(
            f"the token reply's '{field_name}' is not a number: {str(value)[:20]!r}"
        ) from None
    if number != number or number <= 0:  # NaN or nonsense
        raise ResponseFormatError(f"the token reply's '{field_name}' is not a valid time")
    return number / 1000.0 if number >= _SECONDS_VS_MS else number


def clock_skew(headers: Mapping[str, str], local_now: float) -> float:
    """Seconds the server's clock is ahead of ours, from its ``Date`` header (0 when unknown).

    Small differences (under 2 s) are the header's resolution and the round trip, not skew.
    """
    date = headers.get("Date") or headers.get("date")
    if not date:
        return 0.0
    try:
        server_now = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0
    skew = server_now - local_now
    return skew if abs(skew) >= _MIN_SKEW_TO_CORRECT else 0.0


def to_local(server_epoch: float, skew: float) -> float:
    """Convert a server-clock instant to the local clock."""
    return server_epoch - skew
