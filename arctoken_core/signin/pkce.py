"""PKCE (RFC 7636) for OAuth 2.0 user sign-in: a one-time verifier, its S256 challenge, a state.

The verifier stays in this process; only its SHA-256 challenge goes to the browser, so an
authorization code caught on its way back is useless to anyone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["challenge", "new_state", "new_verifier", "same_state"]

_VERIFIER_BYTES = 48
"""64 characters of base64url: inside RFC 7636's 43 to 128."""


def new_verifier() -> str:
    """A fresh code verifier: 64 random URL-safe characters."""
    return secrets.token_urlsafe(_VERIFIER_BYTES)


def challenge(verifier: str) -> str:
    """The ``S256`` code challenge of ``verifier``: base64url(SHA-256), without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """A fresh ``state`` value that ties the redirect to this sign-in."""
    return secrets.token_urlsafe(24)


def same_state(expected: str, received: str) -> bool:
    """True when the redirect carries this sign-in's state (compared in constant time)."""
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))
