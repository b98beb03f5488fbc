"""What a token handler asks of a way of signing in: one sign-in per call, nothing more."""

from __future__ import annotations

from typing import Protocol

from .token import Token

__all__ = ["TokenProvider"]


class TokenProvider(Protocol):
    """Anything that can sign in once and return a fresh :class:`Token`.

    Implemented by each module of :mod:`arctoken_core.signin`; consumed by the handler and
    the cache, which sit below the sign-ins and must not import them.
    """

    audience: str

    def fetch(self) -> Token:
        """Sign in once; raise AuthenticationError on refused credentials (never retry)."""
        ...
