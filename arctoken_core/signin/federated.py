"""Federated servers: a portal token exchanged for one that a federated server accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict

import requests

from ..clock import Clock
from ..errors import InvalidTokenError
from ..secrets import get_logger
from ..tokens.token import Token
from .base import FormSignIn, token_from_reply

if TYPE_CHECKING:
    from ..connection import Connection
    from ..tokens.handler import TokenHandler

__all__ = ["FederatedExchangeProvider", "exchange_provider"]

log = get_logger(__name__)


class FederatedExchangeProvider(FormSignIn):
    """Exchange a portal token for a token of a server federated with that portal."""

    carries = "a token"

    def __init__(
        self,
        session: requests.Session,
        portal_token: Callable[[], Token],
        invalidate_portal_token: Callable[[str], None],
        token_url: str,
        server_root: str,
        *,
        referer: str,
        expiration: int,
        clock: Clock,
        allow_http_loopback: bool = True,
    ) -> None:
        super().__init__(
            session,
            token_url,
            expiration=expiration,
            clock=clock,
            audience=server_root,
            allow_http_loopback=allow_http_loopback,
        )
        self.portal_token = portal_token
        self.invalidate_portal_token = invalidate_portal_token
        self.server_root = server_root
        self.referer = referer

    def fetch(self) -> Token:
        """Exchange once; if the portal token was rejected (498), refresh it and try once more."""
        try:
            return self._exchange(self.portal_token())
        except InvalidTokenError:
            log.info("portal token rejected during exchange; refreshing it once")
        return self._exchange(self.portal_token())

    def _form(self, portal: Token) -> Dict[str, str]:
        return {
            "token": portal.value,
            "serverUrl": self.server_root,
            "request": "getToken",
            "referer": self.referer,
            "expiration": str(self.expiration),
            "f": "json",
        }

    def _exchange(self, portal: Token) -> Token:
        headers = {"Referer": portal.referer} if portal.referer else None
        try:
            payload, response, now = self._post(self._form(portal), "token exchange", headers)
        except InvalidTokenError:
            self.invalidate_portal_token(portal.value)
            raise
        return token_from_reply(
            payload, response, now, referer=self.referer, audience=self.audience
        )


def exchange_provider(
    conn: Connection, portal_handler: TokenHandler, portal: str, root: str
) -> FederatedExchangeProvider:
    """Tokens for the server ``root``, exchanged at ``portal`` from ``portal_handler``'s."""
    return FederatedExchangeProvider(
        conn.http_session(),
        portal_handler.token,
        portal_handler.invalidate,
        f"{portal}/sharing/rest/generateToken",
        root,
        referer=conn.referer,
        expiration=conn.expiration,
        clock=conn.clock,
        allow_http_loopback=conn.allow_http_loopback,
    )
