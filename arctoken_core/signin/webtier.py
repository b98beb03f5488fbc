"""Sign-in where the web server authenticates the user (PKI certificates, Windows logins).

ArcGIS Enterprise with web-tier authentication leaves the sign-in to its web server (the web
adaptor in IIS or another server): a request that reaches the portal comes from a user the web
server already knows. ``generateToken`` then takes no username or password at all; it issues
a token for that user. The certificate or the Windows login is shown on every connection (see
:mod:`arctoken_core.transport.tls_store` and :mod:`arctoken_core.transport.negotiate`), so
the token requests and the data requests that follow all pass the web tier. Inside ArcGIS Pro,
Pro signs in instead (:mod:`arctoken_core.signin.pro_webtier`): nothing to install.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional
from urllib.parse import urlsplit

import requests

from ..clock import Clock
from ..errors import ArcGISServiceError, AuthenticationError
from ..secrets import Secret, get_logger, mask_token
from ..tokens.token import Token
from ..transport.negotiate import negotiate_auth
from ..transport.tls_store import ClientCertificate, tls_context
from ..urls import OriginKey
from . import pro_webtier
from .base import FormSignIn, TokenProvider, refused, token_from_reply

if TYPE_CHECKING:
    from ..connection import Connection
    from ..kinds import Kind

__all__ = ["WebTierProvider", "provider", "web_tier_settings"]

log = get_logger(__name__)


class WebTierProvider(FormSignIn):
    """``generateToken`` for the user the web tier authenticated: no credentials in the form."""

    carries = "a web-tier sign-in"

    def __init__(
        self,
        session: requests.Session,
        token_url: str,
        who: str,
        *,
        referer: str,
        expiration: int,
        clock: Clock,
        audience: str,
        allow_http_loopback: bool = True,
    ) -> None:
        super().__init__(
            session,
            token_url,
            expiration=expiration,
            clock=clock,
            audience=audience,
            allow_http_loopback=allow_http_loopback,
        )
        self.who = who
        self.referer = referer

    def fetch(self) -> Token:
        """Ask for a token once; a refusal (by the portal or the web tier) is not retried."""
        form = {
            "client": "referer",
            "referer": self.referer,
            "expiration": str(self.expiration),
            "f": "json",
        }
        try:
            payload, response, now = self._post(form, "sign-in")
        except ArcGISServiceError as exc:
            if refused(exc, (400, 401, 403)) or (exc.code in (401, 403) and not exc.envelope):
                raise self._refusal(exc) from None
            raise
        token = token_from_reply(
            payload, response, now, referer=self.referer, audience=self.audience
        )
        log.info("signed in with %s at %s (%s)", self.who, self.token_url, mask_token(token.value))
        return token

    def _refusal(self, exc: ArcGISServiceError) -> AuthenticationError:
        reason = "; ".join(exc.details) or exc.server_message
        return AuthenticationError(
            f"{self.token_url} refused the sign-in with {self.who} ({reason}); check that "
            "the portal knows this user and that its web server accepts this login. Not retried."
        )


def provider(conn: Connection, who: str) -> TokenProvider:
    """The web-tier sign-in at ``conn``'s portal: ArcGIS Pro's own inside Pro, else through
    the connection's session (which shows the certificate or the Windows login)."""
    if pro_webtier.pro_signs_in(conn.row, conn.username):
        return pro_webtier.build(conn, who)
    return WebTierProvider(
        conn.http_session(),
        f"{conn.url}/sharing/rest/generateToken",
        who,
        referer=conn.referer,
        expiration=conn.expiration,
        clock=conn.clock,
        audience=conn.url,
        allow_http_loopback=conn.allow_http_loopback,
    )


def web_tier_settings(
    row: Kind,
    values: Dict[str, Any],
    urls: Iterable[Optional[str]],
    trusted: Iterable[OriginKey],
) -> Dict[str, Any]:
    """The HttpSettings fields that show the user's certificate or Windows login.

    ``values`` are the Connection's checked fields. A Windows login is offered only to the
    hosts of ``urls`` (the portal, the server URL) and the ``trusted`` hosts.

    Inside ArcGIS Pro, Pro shows them (it signs in): then only the trust settings are made.

    Raises:
        ConfigError: the certificate cannot be read, or Windows sign-in's package is missing.
    """
    client = None
    by_pro = pro_webtier.pro_signs_in(row, values.get("username"))
    if values.get("cert_file") and not by_pro:
        client = ClientCertificate(
            str(values["cert_file"]), values.get("key_file") or None, values.get("cert_password")
        )
    verify = bool(values.get("verify", True))
    settings: Dict[str, Any] = {"ssl_context": tls_context(verify, values.get("ca_bundle"), client)}
    if row.web_tier == "windows" and not by_pro:
        hosts = [urlsplit(url).hostname for url in urls if url] + [h for h, _ in trusted]
        names = frozenset(h.lower() for h in hosts if h)
        password: Optional[Secret] = values.get("password")
        settings["web_auth"] = negotiate_auth(names, values.get("username") or None, password)
    return settings


def certificate_words(cert_file: Optional[str]) -> str:
    """'the client certificate client.pfx': which certificate, without the folder path."""
    return f"the client certificate {os.path.basename(cert_file or '')}".strip()
