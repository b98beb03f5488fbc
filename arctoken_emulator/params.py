"""Reading what a request asked for: parameters, tokens, expirations, route segments, URLs."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence
from urllib.parse import unquote, urlsplit

from .records import RequestRecord

PORTAL_DEFAULT_MINUTES = 120.0
"""Enterprise portal default ``expiration`` when a request gives none."""
MAX_MINUTES = 20160.0
"""Two weeks: longer requests are clamped, never refused."""
CREDENTIAL_NAMES = ("username", "password")
"""Parameters that must never travel in a query string."""


def merged(req: RequestRecord) -> Dict[str, str]:
    """Query and body parameters together; the body wins."""
    out = dict(req.query)
    out.update(req.form)
    return out


def lookup(params: Dict[str, str], name: str) -> Optional[str]:
    """A parameter by name in any letter case (``serverUrl``, ``serverURL``, ``serverurl``)."""
    lowered = name.lower()
    for key, value in params.items():
        if key.lower() == lowered:
            return value
    return None


def credentials_in_query(req: RequestRecord) -> bool:
    """True when a username or password travelled in the URL."""
    return any(lookup(req.query, name) is not None for name in CREDENTIAL_NAMES)


def request_token(req: RequestRecord, headers: bool = True) -> Optional[str]:
    """The token a request carries: Bearer headers first (unless ``headers`` is False), then
    the body, then the query."""
    for header in ("X-Esri-Authorization", "Authorization") if headers else ():
        scheme, _, value = req.headers.get(header, "").strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return req.form.get("token") or req.query.get("token") or None


def minutes(raw: Optional[str], default: float) -> float:
    """``expiration`` in minutes: missing or unreadable means ``default``; clamped to two weeks."""
    try:
        value = float(raw) if raw not in (None, "") else default
    except ValueError:
        value = default
    if value != value or value <= 0:  # NaN or not positive
        value = default
    return min(value, MAX_MINUTES)


def segments_after(path: str, prefix: Sequence[str]) -> Optional[List[str]]:
    """The path's segments after ``prefix`` (compared without case); None if it does not match."""
    segments = [unquote(part) for part in path.split("/") if part]
    head = [part.lower() for part in segments[: len(prefix)]]
    if head != [part.lower() for part in prefix]:
        return None
    return segments[len(prefix) :]


def normalize_url(url: str) -> str:
    """scheme://host:port/path in one spelling, for comparing server URLs (no substring tests)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme, 0)
    host = (parts.hostname or "").lower()
    return f"{scheme}://{host}:{port}{parts.path.rstrip('/').lower()}"


def is_token_path(path: str) -> bool:
    """True for any generateToken, OAuth2 token or /arcgis/tokens endpoint."""
    lowered = path.lower().rstrip("/")
    return lowered.endswith(("/generatetoken", "/oauth2/token", "/tokens"))
