"""The plain-http rule: a secret travels over http only to this machine, and only if allowed."""

from __future__ import annotations

from typing import Optional, Set, Tuple
from urllib.parse import urlsplit

from ..errors import InsecureTransportError
from ..secrets import get_logger
from ..urls import is_loopback

__all__ = ["check_transport"]

log = get_logger(__name__)

_warned: Set[Tuple[str, Optional[str]]] = set()
"""(what, host) pairs already warned about, so a long run warns once, not per request."""


def check_transport(url: str, what: str, field: str, allow_http_loopback: bool) -> None:
    """Refuse to send ``what`` (a password, a token) over plain http except to loopback.

    Raises InsecureTransportError naming ``field``; logs a warning for allowed loopback http.
    """
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_http_loopback and is_loopback(parts.hostname):
        if (what, parts.hostname) not in _warned:
            _warned.add((what, parts.hostname))
            log.warning("sending %s over plain http to %s (loopback only)", what, parts.hostname)
        return
    raise InsecureTransportError(
        field,
        f"refusing to send {what} over {parts.scheme or 'an unknown scheme'} to "
        f"{parts.hostname or url}; use an https:// URL",
    )
