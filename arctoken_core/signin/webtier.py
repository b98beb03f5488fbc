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

import importlib.util
import os
from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional
from urllib.parse import urlsplit

import requests

from ..clock import Clock
from ..errors import ArcGISServiceError, AuthenticationError
from ..secrets import Secret, get_logger, mask_token
from ..tokens.token import Token
from ..transport.logon import have_pyspnego
from ..transport.settings import uses_system_store
from ..urls import OriginKey
from .base import FormSignIn, TokenProvider, refused, token_from_reply

if TYPE_CHECKING:
    from ..connection import Connection
    from ..kinds import Kind
    from ..transport.tls_store import ClientCertificate

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
    if _by_pro(conn.row, conn.username):
        from . import pro_webtier  # inside ArcGIS Pro only

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

    Inside ArcGIS Pro, Pro signs in (and needs nothing installed); our own requests then show
    the certificate or the login too where this Python can (a PEM always, a .pfx with
    ``cryptography``, a Windows login with ``pyspnego``: Pro ships both), since a web tier
    asks every request for them, not only the sign-in.

    Raises:
        ConfigError: the certificate cannot be read, or Windows sign-in's package is missing.
    """
    by_pro = _by_pro(row, values.get("username"))
    client = _client_certificate(values, by_pro)
    verify, ca_bundle = bool(values.get("verify", True)), values.get("ca_bundle")
    settings: Dict[str, Any] = {"system_trust": uses_system_store(verify, ca_bundle)}
    if client is not None:  # read now: a wrong file or password is the user's to fix now
        from ..transport.tls_store import tls_context  # client certificates only

        settings["ssl_context"] = tls_context(verify, ca_bundle, client)
    if row.web_tier == "windows" and _own_windows_login(by_pro):
        hosts = [urlsplit(url).hostname for url in urls if url] + [h for h, _ in trusted]
        names = frozenset(h.lower() for h in hosts if h)
        password: Optional[Secret] = values.get("password")
        from ..transport.negotiate import negotiate_auth  # Windows sign-in only

        settings["web_auth"] = negotiate_auth(names, values.get("username") or None, password)
    return settings


def _by_pro(row: Kind, username: Optional[str]) -> bool:
    """Whether ArcGIS Pro signs this connection in (web tiers inside Pro; see pro_webtier)."""
    if not row.web_tier:
        return False
    from . import pro_webtier  # web tiers only

    return pro_webtier.pro_signs_in(row, username)


def _client_certificate(values: Dict[str, Any], by_pro: bool) -> Optional[ClientCertificate]:
    """The certificate our requests show, if any; inside Pro, a .pfx only with cryptography."""
    cert_file = values.get("cert_file")
    if not cert_file:
        return None
    from ..transport.tls_store import ClientCertificate, is_pkcs12  # client certificates only

    if by_pro and is_pkcs12(str(cert_file)) and not _have_cryptography():
        log.info(
            "ArcGIS Pro signs in with %s; this Python cannot read it (no 'cryptography'), so "
            "requests outside Pro's sign-in carry only the token",
            certificate_words(str(cert_file)),
        )
        return None
    return ClientCertificate(
        str(cert_file), values.get("key_file") or None, values.get("cert_password")
    )


def _own_windows_login(by_pro: bool) -> bool:
    """Whether our requests answer a Windows challenge: always outside Pro, inside with pyspnego."""
    if by_pro and not have_pyspnego():
        log.info(
            "ArcGIS Pro signs in with your Windows logon; without 'pyspnego' here, requests "
            "outside Pro's sign-in carry only the token"
        )
        return False
    return True


def _have_cryptography() -> bool:
    """True when ``cryptography`` (optional: only .pfx files need it) is installed here."""
    return importlib.util.find_spec("cryptography") is not None


def certificate_words(cert_file: Optional[str]) -> str:
    """'the client certificate client.pfx': which certificate, without the folder path."""
    return f"the client certificate {os.path.basename(cert_file or '')}".strip()
