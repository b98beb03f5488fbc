"""An OAuth refresh token as a value, where it is kept, and when it is due for renewal.

Below the sign-ins and the saved profiles: :mod:`arctoken_core.signin.oauth_user` renews it,
:mod:`arctoken_core.profiles` keeps it in the OS keyring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

from ..secrets import Secret, mask_token

__all__ = ["ROTATE_FRACTION", "MemoryStore", "RefreshGrant", "RefreshStore", "rotation_due"]

ROTATE_FRACTION = 0.25
"""A refresh token is exchanged for a new one once this share of its lifetime is left."""


@dataclass(frozen=True)
class RefreshGrant:
    """A refresh token and what renewing it needs; ``expires_at`` None when not told."""

    token: Secret
    issued_at: float
    expires_at: Optional[float]
    redirect_uri: str
    username: str = ""

    def __repr__(self) -> str:
        return f"RefreshGrant({mask_token(self.token.reveal())}, expires_at={self.expires_at})"


class RefreshStore(Protocol):
    """Where a refresh token lives between runs (a saved profile, or only this process)."""

    def load(self) -> Optional[RefreshGrant]:
        """The stored grant, or None when there is none yet."""
        ...

    def save(self, grant: RefreshGrant) -> None:
        """Keep ``grant`` (a new or rotated refresh token); ArcTokenError when it cannot."""
        ...


class MemoryStore:
    """A refresh token held by this process only (``Connection(refresh_token=...)``)."""

    def __init__(self, grant: Optional[RefreshGrant] = None) -> None:
        self.grant = grant

    def load(self) -> Optional[RefreshGrant]:
        """The grant held, if any."""
        return self.grant

    def save(self, grant: RefreshGrant) -> None:
        """Hold ``grant`` instead."""
        self.grant = grant


def rotation_due(grant: RefreshGrant, now: float) -> bool:
    """True when the refresh token should be exchanged now (a quarter of its life left)."""
    if grant.expires_at is None:
        return False
    lifetime = max(0.0, grant.expires_at - grant.issued_at)
    return grant.expires_at - now <= ROTATE_FRACTION * lifetime
