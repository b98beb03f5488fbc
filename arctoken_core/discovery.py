"""What a server or portal says about itself: token service, owning portal, token lifetime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import requests

from .http import call, read_json
from .secrets import get_logger
from .urls import origin_key

log = get_logger(__name__)


@dataclass(frozen=True)
class ServerInfo:
    """The parts of ``<server>/rest/info`` that token handling needs."""

    root: str
    token_url: Optional[str]
    owning_system_url: Optional[str]
    short_lived_minutes: Optional[int]
    token_based: bool


def server_info(session: requests.Session, root: str) -> ServerInfo:
    """Read ``<root>/rest/info?f=json`` (anonymous; answered even with the directory off)."""
    payload = read_json(
        call(session, "GET", f"{root}/rest/info", params={"f": "json"}, what="server info"),
        "server info",
    )
    auth = _mapping(payload.get("authInfo"))
    token_url = auth.get("tokenServicesUrl")
    minutes = auth.get("shortLivedTokenValidity")
    return ServerInfo(
        root=root,
        token_url=token_service_url(str(token_url)) if token_url else None,
        owning_system_url=str(payload["owningSystemUrl"])
        if payload.get("owningSystemUrl")
        else None,
        short_lived_minutes=int(minutes) if isinstance(minutes, (int, float)) else None,
        token_based=bool(auth.get("isTokenBasedSecurity", bool(token_url))),
    )


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
    advertised = _mapping(payload.get("authInfo")).get("tokenServicesUrl")
    if not advertised:
        return default
    advertised = str(advertised)
    if origin_key(advertised) != origin_key(portal):
        log.warning(
            "the portal advertises its token service on another host (%s); using %s instead",
            origin_key(advertised)[0],
            default,
        )
        return default
    return (
        advertised.replace("http://", "https://", 1)
        if portal.startswith("https://")
        else advertised
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
