"""Web-tier sign-in (PKI, IWA) inside ArcGIS Pro: Pro's own ``arcpy.SignInToPortal``.

Inside ArcGIS Pro (wherever ``arcpy`` imports, on Windows), a portal behind a web tier is
signed in to by Pro itself: ``SignInToPortal(url, password=<certificate password>,
cert_file=..., key_file=...)`` for a client certificate, ``SignInToPortal(url)`` for the
current Windows logon (Pro takes no Windows username). ``GetSigninToken`` then gives the
token, and near its expiry Pro is asked to sign in again. Nothing needs installing for the
token. A web tier asks every request, not only the sign-in, for the certificate or login, so
our own requests show them too where this Python can (see ``webtier.web_tier_settings``). An
explicit ``DOMAIN\\user`` for Windows sign-in is not something Pro can do, so it keeps the
requests-based path (which needs ``pyspnego``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Dict, Optional

from ..errors import ArcTokenError, AuthenticationError, ConfigError
from ..secrets import get_logger, redact
from .pro import ProSigninProvider, SigninSource

if TYPE_CHECKING:
    from ..connection import Connection
    from ..kinds import Kind

__all__ = ["build", "pro_signs_in"]

log = get_logger(__name__)


def pro_signs_in(row: Kind, username: Optional[str]) -> bool:
    """Whether ArcGIS Pro signs this web-tier connection in: inside Pro, for a certificate or
    for the current Windows logon (not for an explicit Windows username)."""
    if not row.web_tier or (row.web_tier == "windows" and username) or not _windows():
        return False
    return _arcpy() is not None


def _windows() -> bool:
    """True on Windows, the only system where ``SignInToPortal`` takes a certificate or the
    Windows logon (Esri: not supported on Linux, where ArcGIS Server's arcpy runs)."""
    return sys.platform == "win32"


def _arcpy() -> Any:
    """The arcpy module inside ArcGIS Pro, else None (a broken arcpy counts as absent)."""
    try:
        import arcpy  # noqa: PLC0415 - arcpy exists only inside ArcGIS Pro
    except (ImportError, RuntimeError):  # RuntimeError: arcpy found, but no licence
        return None
    return arcpy


def build(conn: Connection, who: str) -> ProSigninProvider:
    """Pro's sign-in to ``conn``'s portal with ``who`` (words for messages: the certificate,
    the Windows logon), asked again whenever the token nears expiry."""
    return ProSigninProvider(portal_signin(conn, who), audience=conn.url, clock=conn.clock)


def portal_signin(conn: Connection, who: str) -> SigninSource:
    """``SignInToPortal`` with the connection's certificate (or nothing), then the token."""

    def signin() -> Optional[Dict[str, Any]]:
        arcpy = _arcpy()
        try:
            arcpy.SignInToPortal(conn.url, **signin_arguments(conn))
        except Exception as exc:  # noqa: BLE001 - arcpy documents no one exception type
            raise _refusal(conn, who, exc) from None
        log.info("ArcGIS Pro signed in to %s with %s", conn.url, who)
        result: Optional[Dict[str, Any]] = arcpy.GetSigninToken()
        return result

    return signin


def signin_arguments(conn: Connection) -> Dict[str, str]:
    """The keyword arguments of ``SignInToPortal`` for ``conn`` (none for Windows sign-in)."""
    if not conn.cert_file:
        return {}
    arguments = {"cert_file": conn.cert_file}
    if conn.key_file:
        arguments["key_file"] = conn.key_file
    if conn.cert_password:
        arguments["password"] = conn.cert_password.reveal()
    return arguments


def _refusal(conn: Connection, who: str, exc: Exception) -> ArcTokenError:
    """arcpy's failure as one line naming what to check (arcpy's text, secrets masked)."""
    reason = redact(" ".join(str(exc).split())) or type(exc).__name__
    said = f"ArcGIS Pro could not sign in to {conn.url} with {who} ({reason})"
    if conn.cert_file:
        return ConfigError(
            "cert_file",
            f"{said}; check that this is your certificate for this portal, that its password "
            "(Client Certificate Password) opens it, and for a .pem certificate the key file",
        )
    return AuthenticationError(
        f"{said}; sign in to Windows with an account the portal knows, or check the portal "
        "URL. Not retried."
    )
