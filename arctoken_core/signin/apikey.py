"""API keys (or a token made elsewhere): a static token, never refreshed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..clock import Clock
from ..errors import AuthenticationError
from ..secrets import Secret
from ..tokens.token import Token
from .base import TokenProvider

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["ApiKeyProvider", "build"]


class ApiKeyProvider:
    """A static API key (or a token made elsewhere): no sign-in, an optional expiry.

    ``referer`` is sent with it when given: a token from Generate Token is referer-bound,
    while a real API key may restrict referers, so none is sent unless asked.
    """

    def __init__(
        self,
        key: Secret,
        *,
        audience: str,
        clock: Clock,
        expires_at: Optional[float] = None,
        referer: Optional[str] = None,
    ) -> None:
        self.key = key
        self.audience = audience
        self.clock = clock
        self.expires_at = expires_at
        self.referer = referer

    def fetch(self) -> Token:
        """Return the key as a token; an expired key is an AuthenticationError (not refreshable)."""
        now = self.clock()
        if self.expires_at is not None and self.expires_at <= now:
            raise AuthenticationError(
                "api_key: the API key has expired; create a new key in your portal"
            )
        forever = now + 10 * 365 * 86400.0
        return Token(
            value=self.key.reveal(),
            expires_at=self.expires_at if self.expires_at is not None else forever,
            issued_at=now,
            referer=self.referer,
            audience=self.audience,
        )


def build(conn: Connection) -> TokenProvider:
    """Kind ``apikey``: the key, with the referer only when the user gave one."""
    assert conn.api_key is not None  # validated by the Connection
    return ApiKeyProvider(
        conn.api_key,
        audience=conn.url,
        clock=conn.clock,
        expires_at=conn.api_key_expires,
        referer=conn.referer_given,
    )
