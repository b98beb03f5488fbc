"""Host scope: which audience a URL may receive a token for, and none for anything else.

A token goes to the portal's own origin, to servers proven federated with the portal, to
hosts the user listed, and for ArcGIS Online to its ``*.arcgis.com`` hosted services.
A server the connection has not met yet is proven federated by its own anonymous
``/rest/info`` (``owningSystemUrl`` parsed and compared), asked once per server root and only
over https; nothing is sent to a server that is not proven.
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, List, Optional
from urllib.parse import urlsplit

from ..errors import ArcTokenError, ConfigError
from ..secrets import get_logger
from ..urls import OriginKey, is_under, normalise_server_url, origin_key, root_key

__all__ = ["PORTAL", "Scope", "owned_by"]

log = get_logger(__name__)

PORTAL = ""
"""The audience name of the connection's own portal or server."""

Probe = Callable[[str], Optional[str]]
"""``probe(server_root)``: the server's ``owningSystemUrl``, or None; may raise ArcTokenError."""

_ONLINE_OWNERS = ("www.arcgis.com", "arcgis.com")
"""What ArcGIS Online's hosted servers name as their owning system."""


def _online(host: str) -> bool:
    return host == "arcgis.com" or host.endswith(".arcgis.com")


def owned_by(owning: str, portal: str) -> bool:
    """True when ``owning`` (a server's owningSystemUrl) names ``portal``.

    Compared as parsed host, port and path. An ArcGIS Online organisation URL
    (``myorg.maps.arcgis.com``) also owns the servers that name ``www.arcgis.com``, as
    Online's hosted servers do.
    """
    try:
        if root_key(owning) == root_key(portal):
            return True
        owner_host, _, owner_path = root_key(owning)
        portal_host = root_key(portal)[0]
    except ConfigError:
        return False
    return owner_host in _ONLINE_OWNERS and owner_path == "" and _online(portal_host)


class Scope:
    """Decides, per URL, which audience's token it may carry (or that it may carry none)."""

    def __init__(
        self,
        portal: str,
        *,
        trusted: List[OriginKey],
        online_hosted: bool,
        probe: Optional[Probe],
    ) -> None:
        self.portal = portal
        self.trusted = trusted
        self.online_hosted = online_hosted
        self.probe = probe
        self._proven: Dict[str, bool] = {}
        self._lock = threading.Lock()

    def own(self, url: str) -> bool:
        """True when ``url`` is on the portal's origin, a trusted host, or Online-hosted."""
        origin = origin_key(url)
        if origin == origin_key(self.portal) or origin in self.trusted:
            return True
        return self.online_hosted and self._online_hosted(url)

    def federated_root(self, url: str) -> Optional[str]:
        """The root of the server ``url`` is on, when that server is proven federated."""
        if self.probe is None or urlsplit(url).scheme != "https":
            return None
        try:
            root = normalise_server_url(url, "url")
        except ConfigError:
            return None
        with self._lock:
            known = self._proven.get(root)
        if known is None:
            known = self._prove(root)
        return root if known else None

    def known_root(self, url: str, roots: List[str]) -> Optional[str]:
        """The first of ``roots`` that ``url`` is on or below."""
        return next((root for root in roots if is_under(url, root)), None)

    def _prove(self, root: str) -> bool:
        assert self.probe is not None
        try:
            owning = self.probe(root)
        except ArcTokenError as exc:
            log.debug("could not ask %s who owns it: %s", root, exc)
            return False  # not remembered: a later request asks again
        proven = bool(owning) and owned_by(str(owning), self.portal)
        if proven:
            log.info("%s is federated with %s: it gets the portal's token", root, self.portal)
        with self._lock:
            self._proven[root] = proven
        return proven

    def _online_hosted(self, url: str) -> bool:
        """ArcGIS Online tokens also open Online-hosted services (``services*.arcgis.com``)."""
        host = origin_key(self.portal)[0]
        target = origin_key(url)[0]
        return _online(host) and url.startswith("https://") and _online(target)
