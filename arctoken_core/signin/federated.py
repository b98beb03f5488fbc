"""Federated servers: a portal token exchanged for one that a federated server accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Optional

import requests

from ..clock import Clock
from ..errors import ConfigError, InvalidTokenError, NotFederatedError
from ..secrets import get_logger
from ..tokens.token import Token
from ..transport.scope import owned_by
from .base import FormSignIn, TokenProvider, token_from_reply
from .discovery import server_info

if TYPE_CHECKING:
    from ..connection import Connection
    from ..tokens.handler import TokenHandler

__all__ = ["FederatedExchangeProvider", "exchange_provider", "federated_provider", "owning_system"]

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


def owning_system(conn: Connection, root: str) -> Optional[str]:
    """The portal the server at ``root`` says owns it (its ``/rest/info``), or None."""
    return server_info(conn.http_session(), root).owning_system_url


def federated_provider(
    conn: Connection, portal_handler: Callable[[], TokenHandler], root: str
) -> TokenProvider:
    """Tokens for the server at ``root``, once its own ``/rest/info`` proves it federated
    with ``conn``'s portal: the portal's token (from ``portal_handler()``) exchanged.

    Raises:
        ConfigError: ``conn`` is not a portal connection.
        NotFederatedError: the server names another portal, or none.
    """
    if not conn.row.federates:
        raise ConfigError("server_url", "federated servers need a portal connection")
    owner = owning_system(conn, root)
    if not owner or not owned_by(owner, conn.url):
        raise NotFederatedError(
            f"{root} is not federated with {conn.url} (its owning system is "
            f"{owner or 'no portal'}); use a connection to the server's own portal, or a "
            "standalone server connection"
        )
    return exchange_provider(conn, portal_handler(), conn.url, root)
