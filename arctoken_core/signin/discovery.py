"""What a server or portal says about itself: token service, owning portal, token lifetime."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import requests

from ..errors import ConfigError
from ..secrets import get_logger
from ..transport.failures import call
from ..transport.replies import read_json
from ..urls import origin_key, root_key

__all__ = [
    "ServerInfo",
    "own_token_url",
    "portal_token_url",
    "server_info",
    "token_service_url",
]


log = get_logger(__name__)


@dataclass(frozen=True)
class ServerInfo:
    """The parts of ``<server>/rest/info`` that token handling needs."""

    root: str
    token_url: Optional[str]
    owning_system_url: Optional[str]
    short_lived_minutes: Optional[int]
    token_based: bool
    """False only when the server says so: it then uses web-tier (IWA, PKI) sign-in."""


def server_info(session: requests.Session, root: str) -> ServerInfo:
    """Read ``<root>/rest/info?f=json`` (anonymous; answered even with the directory off)."""
    payload = read_json(
        call(session, "GET", f"{root}/rest/info", params={"f": "json"}, what="server info"),
        "server info",
    )
    auth = _mapping(payload.get("authInfo"))
    token_url = _url_or_none(auth.get("tokenServicesUrl"))
    minutes = auth.get("shortLivedTokenValidity")
    return ServerInfo(
        root=root,
        token_url=token_service_url(token_url) if token_url else None,
        owning_system_url=_url_or_none(payload.get("owningSystemUrl")),
        short_lived_minutes=_minutes_or_none(minutes),
        token_based=auth.get("isTokenBasedSecurity") is not False,
    )


def _url_or_none(value: Any) -> Optional[str]:
    """A URL the server advertised, or None when it is missing or cannot be parsed.

    What a server says about itself is not trusted to parse: an unparsable URL is treated as
    absent (the standard location is used) rather than failing later with a bare ValueError.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        root_key(value)
        origin_key(value)
    except ConfigError:
        log.warning("ignoring an unreadable URL the server advertised")
        return None
    return value


def _minutes_or_none(value: Any) -> Optional[int]:
    """``shortLivedTokenValidity`` as whole minutes; NaN, infinity or a non-number: None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if math.isfinite(value) else None


def token_service_url(advertised: str) -> str:
    """Complete ``.../tokens`` or ``.../tokens/`` (as /rest/info often says) to generateToken."""
    url = advertised.strip()
    if url.rstrip("/").lower().endswith("/tokens"):
        return url.rstrip("/") + "/generateToken"
    return url


def portal_token_url(session: requests.Session, portal: str) -> str:
    """The portal's generateToken URL, from ``/sharing/rest/info`` when it is trustworthy.

    A portal may advertise an internal host name that clients cannot reach, or another host:
    a password goes only to the portal's own origin, so anything else falls back to the
    standard ``<portal>/sharing/rest/generateToken`` with a warning.
    """
    default = f"{portal}/sharing/rest/generateToken"
    payload = read_json(
        call(
            session, "GET", f"{portal}/sharing/rest/info", params={"f": "json"}, what="portal info"
        ),
        "portal info",
    )
    advertised = _url_or_none(_mapping(payload.get("authInfo")).get("tokenServicesUrl"))
    return own_token_url(advertised, portal, default)


def own_token_url(advertised: Optional[str], root: str, default: str) -> str:
    """The advertised token service when it is on ``root``'s own origin, else ``default``.

    A password goes only to the host the user named: an internal host name clients cannot
    reach, or any other host, falls back to the standard location with a warning. An
    ``http://`` advertisement for an https root is upgraded.
    """
    if not advertised:
        return default
    if origin_key(advertised) != origin_key(root):
        log.warning(
            "%s advertises its token service on another host (%s); using %s instead",
            root,
            origin_key(advertised)[0],
            default,
        )
        return default
    if root.startswith("https://"):
        return advertised.replace("http://", "https://", 1)
    return advertised


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
