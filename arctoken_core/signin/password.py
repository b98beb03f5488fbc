"""Sign-in with a username and password: ``generateToken`` on a portal, Online or a server.

The password goes only to the portal's or server's own origin, in a POST body, once per
:meth:`GenerateTokenProvider.fetch`. A portal is asked at its standard token URL first
(one request per sign-in); its advertised token service is looked up only when the
standard one is not there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Optional

import requests

from ..clock import Clock
from ..errors import ArcGISServiceError, ConfigError, ResponseFormatError
from ..secrets import Secret, get_logger, mask_token
from ..tokens.token import Token
from ..urls import normalise_portal_url, origin_key
from .base import FormSignIn, TokenProvider, authentication_error, refused, token_from_reply

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["GenerateTokenProvider", "build_portal", "build_server"]

log = get_logger(__name__)


class GenerateTokenProvider(FormSignIn):
    """``generateToken`` with a username and password (portal, Online or standalone server).

    ``discover``, when given, finds the token service when ``token_url`` turns out not to
    be one (404, an HTML page, a redirect): it is called once, and its URL kept.
    """

    def __init__(
        self,
        session: requests.Session,
        token_url: str,
        username: str,
        password: Secret,
        *,
        referer: str,
        expiration: int,
        clock: Clock,
        audience: str,
        allow_http_loopback: bool = True,
        discover: Optional[Callable[[], str]] = None,
    ) -> None:
        super().__init__(
            session,
            token_url,
            expiration=expiration,
            clock=clock,
            audience=audience,
            allow_http_loopback=allow_http_loopback,
        )
        self.username = username
        self.password = password
        self.referer = referer
        self._discover = discover

    def fetch(self) -> Token:
        """POST the credentials once (in the body, never the URL) and return the token."""
        try:
            return self._sign_in()
        except (ResponseFormatError, ArcGISServiceError) as exc:
            if self._discover is None or not _not_a_token_service(exc):
                raise
            found, self._discover = self._discover(), None
            if found == self.token_url:
                raise
            log.info("%s is not a token service; using %s", self.token_url, found)
            self.token_url = found
        return self._sign_in()

    def _form(self) -> Dict[str, str]:
        return {
            "username": self.username,
            "password": self.password.reveal(),
            "client": "referer",
            "referer": self.referer,
            "expiration": str(self.expiration),
            "f": "json",
        }

    def _sign_in(self) -> Token:
        try:  # no local holds the form: this frame may end up in a traceback
            payload, response, now = self._post(self._form(), "sign-in")
        except ArcGISServiceError as exc:
            if refused(exc, (400, 401, 403)):
                raise authentication_error(exc, repr(self.username), self.token_url) from None
            raise
        token = token_from_reply(
            payload, response, now, referer=self.referer, audience=self.audience
        )
        log.info(
            "signed in as %s at %s (%s)", self.username, self.token_url, mask_token(token.value)
        )
        return token


def _not_a_token_service(exc: Exception) -> bool:
    """No ArcGIS token service answered at all: a 404, an HTML page, a redirect."""
    if isinstance(exc, ResponseFormatError):
        return True
    return isinstance(exc, ArcGISServiceError) and not exc.envelope and exc.code in (404, 405)


def password_provider(
    conn: Connection,
    token_url: str,
    audience: str,
    discover: Optional[Callable[[], str]] = None,
) -> GenerateTokenProvider:
    """The connection's username and password, posted to ``token_url`` for ``audience``."""
    assert conn.username and conn.password  # validated by the Connection
    return GenerateTokenProvider(
        conn.http_session(),
        token_url,
        conn.username,
        conn.password,
        referer=conn.referer,
        expiration=conn.expiration,
        clock=conn.clock,
        audience=audience,
        allow_http_loopback=conn.allow_http_loopback,
        discover=discover,
    )


def portal_provider(conn: Connection, portal: str) -> GenerateTokenProvider:
    """Sign in at ``portal``'s standard token URL, discovering another only if need be."""
    return password_provider(
        conn,
        f"{portal}/sharing/rest/generateToken",
        portal,
        discover=lambda: _advertised_token_url(conn, portal),
    )


def _advertised_token_url(conn: Connection, portal: str) -> str:
    """The token service ``portal`` advertises; asked only when the standard URL failed."""
    from .discovery import portal_token_url

    return portal_token_url(conn.http_session(), portal)


def build_portal(conn: Connection) -> TokenProvider:
    """Kinds ``online`` and ``portal``: generateToken at the portal."""
    return portal_provider(conn, conn.url)


def build_server(conn: Connection) -> TokenProvider:
    """Kind ``server``: the server's own token service, or its portal's when federated."""
    from .discovery import own_token_url, server_info

    info = server_info(conn.http_session(), conn.url)
    if info.owning_system_url:
        return _via_owning_portal(conn, info.owning_system_url)
    if not info.token_based:
        raise ConfigError(
            "url",
            f"{conn.url} uses web-tier sign-in (its web server authenticates users, with "
            "Windows or PKI logins), not ArcGIS tokens: no password was sent. Use ArcGIS "
            "Pro's sign-in, or a connection type for Windows or certificate sign-in",
        )
    default = f"{conn.url}/tokens/generateToken"
    return password_provider(conn, own_token_url(info.token_url, conn.url, default), conn.url)


def _via_owning_portal(conn: Connection, owning: str) -> TokenProvider:
    """A federated server given as kind=server: sign in at its portal, then exchange.

    The password goes to the portal only when it is on the server's own origin or a host
    the user trusts: an anonymous /rest/info reply alone must not pick where a password
    is sent.
    """
    scheme = conn.url.split("://", 1)[0]
    portal = normalise_portal_url(f"{scheme}://{owning.split('://', 1)[-1]}", "url")
    target = origin_key(portal)
    if target != origin_key(conn.url) and target not in conn.trusted_hosts:
        raise ConfigError(
            "url",
            f"{conn.url} is federated with the portal {portal}: sign in there with "
            f"kind 'portal', url {portal} and server_url {conn.url} (or list the portal's "
            "host in trusted_hosts)",
        )
    from .federated import exchange_provider

    log.info("%s is federated with %s; signing in there", conn.url, portal)
    portal_handler = conn.new_handler(portal_provider(conn, portal))
    return exchange_provider(conn, portal_handler, portal, conn.url)
