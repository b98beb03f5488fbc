"""ArcGIS Pro's own sign-in (``arcpy.GetSigninToken``): only inside ArcGIS Pro."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from ..clock import Clock
from ..errors import ConfigError, SignInRequiredError
from ..tokens.token import Token, epoch_seconds
from .base import TokenProvider

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["ProSigninProvider", "SigninSource", "active_portal_url", "arcpy_signin", "build"]


SigninSource = Callable[[], Optional[Dict[str, Any]]]


def arcpy_signin() -> Optional[Dict[str, Any]]:
    """``arcpy.GetSigninToken()``, imported only when the ``pro`` kind is used."""
    try:
        import arcpy  # noqa: PLC0415 - arcpy exists only inside ArcGIS Pro
    except ImportError:
        raise SignInRequiredError(
            "kind 'pro' uses ArcGIS Pro's sign-in, and ArcGIS Pro's Python (arcpy) is not "
            "available here: run inside ArcGIS Pro, or sign in with another kind"
        ) from None

    result: Optional[Dict[str, Any]] = arcpy.GetSigninToken()
    return result


class ProSigninProvider:
    """ArcGIS Pro's own sign-in: asks Pro each time, since Pro refreshes its token itself."""

    def __init__(self, signin: SigninSource, *, audience: str, clock: Clock) -> None:
        self.signin = signin
        self.audience = audience
        self.clock = clock
        self._last: Optional[Token] = None

    def fetch(self) -> Token:
        """Ask Pro for its token; not signed in is a SignInRequiredError saying what to do."""
        info = self.signin()
        if not info or not info.get("token"):
            raise SignInRequiredError(
                "ArcGIS Pro is not signed in to a portal; sign in (Project > Portals, or the "
                "sign-in link at the top right of Pro) and run the tool again"
            )
        value = str(info["token"])
        expires_at = epoch_seconds(info.get("expires"), "expires")
        last = self._last
        if last is not None and (last.value, last.expires_at) == (value, expires_at):
            return last  # Pro has not refreshed yet: same token, same lifetime and margins
        self._last = Token(
            value=value,
            expires_at=expires_at,
            issued_at=self.clock(),
            referer=str(info["referer"]) if info.get("referer") else None,
            ssl=True,
            audience=self.audience,
        )
        return self._last


def active_portal_url() -> str:
    """ArcGIS Pro's active portal (``arcpy.GetActivePortalURL``), for kind ``pro``."""
    try:
        import arcpy  # noqa: PLC0415 - only inside ArcGIS Pro
    except ImportError:
        raise ConfigError(
            "url", "ArcGIS Pro is not available here: give the portal URL explicitly"
        ) from None
    return str(arcpy.GetActivePortalURL())


def build(conn: Connection) -> TokenProvider:
    """Kind ``pro``: ask Pro (or the ``signin`` source the connection was given)."""
    signin = conn.signin_source or arcpy_signin
    return ProSigninProvider(signin, audience=conn.url, clock=conn.clock)
