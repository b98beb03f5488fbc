"""When a token needs refreshing: a pure rule of (token, now), after botocore and google-auth.

Two windows before expiry:

- advisory (``advisory_margin``): a refresh is due, but the token is still handed out; a
  failed refresh is not an error yet;
- mandatory (``mandatory_margin``): the token is no longer handed out, because a request
  started now could arrive after expiry; the refresh must succeed.

The margins scale with the token's lifetime and are capped: 10 % of the lifetime, at most
5 minutes (advisory), and 5 %, at most 1 minute (mandatory). A two-week token is refreshed 5
minutes early, not days early; a one-minute token 6 s early, not 5 minutes early (which
would mean refreshing on every call). The caps leave time for a slow token service; the
percentages leave room for the round trip and the 1 s resolution of ``Date`` headers.
"""

from __future__ import annotations

import enum
from typing import Optional

from .token import Token

__all__ = [
    "ADVISORY_CAP",
    "ADVISORY_FRACTION",
    "MANDATORY_CAP",
    "MANDATORY_FRACTION",
    "RefreshState",
    "advisory_margin",
    "mandatory_margin",
    "refresh_state",
]

ADVISORY_FRACTION, ADVISORY_CAP = 0.10, 300.0
MANDATORY_FRACTION, MANDATORY_CAP = 0.05, 60.0


class RefreshState(enum.Enum):
    """What a holder must do with its token at a given instant."""

    FRESH = "fresh"
    """Use it; no refresh is due."""
    ADVISORY = "advisory"
    """Use it, and let one thread refresh it; a failed refresh is not an error yet."""
    MANDATORY = "mandatory"
    """Do not use it (or there is none): a refresh must succeed first."""


def advisory_margin(lifetime: float) -> float:
    """Seconds before expiry at which a refresh is first attempted."""
    return min(ADVISORY_CAP, ADVISORY_FRACTION * max(0.0, lifetime))


def mandatory_margin(lifetime: float) -> float:
    """Seconds before expiry from which the token is no longer handed out."""
    return min(MANDATORY_CAP, MANDATORY_FRACTION * max(0.0, lifetime))


def refresh_state(token: Optional[Token], now: float) -> RefreshState:
    """The window ``token`` is in at ``now`` (local epoch seconds); no token is MANDATORY."""
    if token is None:
        return RefreshState.MANDATORY
    remaining = token.remaining(now)
    if remaining <= mandatory_margin(token.lifetime):
        return RefreshState.MANDATORY
    if remaining <= advisory_margin(token.lifetime):
        return RefreshState.ADVISORY
    return RefreshState.FRESH
