"""App credentials: OAuth 2.0 ``client_credentials`` for a registered app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict

import requests

from ..clock import Clock
from ..errors import ArcGISServiceError
from ..secrets import Secret
from ..tokens.token import Token
from .base import FormSignIn, TokenProvider, authentication_error, oauth_token_from_reply, refused

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["AppCredentialsProvider", "build"]


class AppCredentialsProvider(FormSignIn):
    """OAuth 2.0 ``client_credentials`` for an app (``expires_in`` is SECONDS)."""

    carries = "a client secret"

    def __init__(
        self,
        session: requests.Session,
        portal: str,
        client_id: str,
        client_secret: Secret,
        *,
        expiration: int,
        clock: Clock,
        allow_http_loopback: bool = True,
    ) -> None:
        super().__init__(
            session,
            f"{portal}/sharing/rest/oauth2/token",
            expiration=expiration,
            clock=clock,
            audience=portal,
            allow_http_loopback=allow_http_loopback,
        )
        self.client_id = client_id
        self.client_secret = client_secret

    def _form(self) -> Dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.reveal(),
            "expiration": str(self.expiration),
            "f": "json",
        }

    def fetch(self) -> Token:
        """POST the app credentials once and return the access token."""
        try:
            payload, _, now = self._post(self._form(), "app sign-in")
        except ArcGISServiceError as exc:
            if refused(exc, (400, 401)):
                raise authentication_error(exc, f"app {self.client_id!r}", self.token_url) from None
            raise
        return oauth_token_from_reply(payload, now, audience=self.audience)


def build(conn: Connection) -> TokenProvider:
    """Kind ``app``: the connection's client ID and secret at its portal."""
    assert conn.client_id and conn.client_secret  # validated by the Connection
    return AppCredentialsProvider(
        conn.http_session(),
        conn.url,
        conn.client_id,
        conn.client_secret,
        expiration=conn.expiration,
        clock=conn.clock,
        allow_http_loopback=conn.allow_http_loopback,
    )
