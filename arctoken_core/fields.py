"""Checks of what a user typed, one source for the core, the CLI and the toolbox dialog.

:func:`check` returns every problem at once (the toolbox shows each on its own parameter);
:class:`~arctoken_core.connection.Connection` raises the first error as a ConfigError.
No network access happens here, so the tool dialog can call it on every keystroke.
"""

from __future__ import annotations

import os
from typing import Any, List, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from .errors import ConfigError, InsecureTransportError
from .kinds import DEFAULT_REFERER, KINDS, MAX_EXPIRATION, MIN_EXPIRATION, Kind
from .tokens.token import usable_referer, usable_token
from .urls import is_loopback, normalise_portal_url, normalise_server_url

__all__ = [
    "Problem",
    "check",
    "check_scheme",
    "normalise_root",
    "proxy_parts",
]


class Problem(NamedTuple):
    """One thing wrong (``error``) or worth knowing (``warning``) about one field."""

    field: str
    message: str
    severity: str = "error"
    insecure: bool = False

    def as_error(self) -> ConfigError:
        """This problem as the ConfigError (or InsecureTransportError) the core raises."""
        kind = InsecureTransportError if self.insecure else ConfigError
        return kind(self.field, self.message)


def check(values: Mapping[str, Any]) -> List[Problem]:
    """Every problem with a connection's fields, errors and warnings, in field order."""
    kind = str(values.get("kind") or "")
    if kind not in KINDS:
        return [Problem("kind", f"must be one of: {', '.join(KINDS)} (got {kind!r})")]
    row = KINDS[kind]
    problems: List[Problem] = []
    problems += _check_url(
        row, values.get("url"), "url", bool(values.get("allow_http_loopback", True))
    )
    problems += _check_credentials(row, values)
    problems += _check_expiration(values.get("expiration"))
    problems += _check_server_url(row, values)
    problems += _check_proxy(values)
    problems += _check_tls(values)
    problems += _check_referer(values.get("referer"))
    return problems


def proxy_parts(raw: str) -> Tuple[str, Optional[str], Optional[int]]:
    """(scheme, host, port) of a proxy typed as ``host:port`` or ``http://host:port``."""
    text = raw.strip()
    try:
        parts = urlsplit(text if "://" in text else "http://" + text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return "http", None, None
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme, host, port


def _check_url(kind: Kind, raw: Any, field: str, allow_loopback: bool) -> List[Problem]:
    if not raw:
        if any(name == field for name, _ in kind.required):
            return [Problem(field, f"is required for {kind.label}; e.g. {kind.url_example}")]
        return []
    try:
        url = normalise_root(kind, str(raw), field)
    except ConfigError as exc:
        return [Problem(field, exc.reason)]
    return check_scheme(url, field, allow_loopback)


def check_scheme(url: str, field: str, allow_loopback: bool) -> List[Problem]:
    """https is fine; plain http only to this machine (a warning), else an error."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return []
    if not is_loopback(parts.hostname):
        message = (
            f"must use https:// ({parts.hostname} is not this machine); passwords and tokens "
            "are never sent over plain http"
        )
        return [Problem(field, message, insecure=True)]
    if allow_loopback:
        message = "uses plain http: allowed only because the host is this machine"
        return [Problem(field, message, "warning")]
    message = "must use https://: plain http to this machine is turned off (allow_http_loopback)"
    return [Problem(field, message, insecure=True)]


def normalise_root(kind: Kind, raw: str, field: str = "url") -> str:
    """``raw`` as the root of what ``kind`` signs in to: a portal or a server."""
    if kind.root == "server":
        return normalise_server_url(raw, field)
    return normalise_portal_url(raw, field)


def _check_credentials(kind: Kind, values: Mapping[str, Any]) -> List[Problem]:
    problems = []
    for field, what in kind.required:
        if field == "url":
            continue  # checked with the URL's form
        value = values.get(field)
        if value is None or not str(_reveal(value)).strip():
            problems.append(Problem(field, f"is required for {kind.label}: give {what}"))
        elif field == "api_key" and not usable_token(str(_reveal(value))):
            # the key travels in a header: a space or line break would break the request
            problems.append(
                Problem(field, "has spaces or characters an API key never has; paste the key alone")
            )
    return problems


def _check_expiration(raw: Any) -> List[Problem]:
    if raw is None or raw == "":
        return []
    try:
        minutes = int(raw)
        exact = float(raw) == minutes
    except (TypeError, ValueError, OverflowError):  # OverflowError: infinity
        return [Problem("expiration", f"must be a whole number of minutes (got {raw!r})")]
    if not exact or not MIN_EXPIRATION <= minutes <= MAX_EXPIRATION:
        return [
            Problem(
                "expiration",
                f"must be {MIN_EXPIRATION} to {MAX_EXPIRATION} minutes "
                f"(14 days, the longest ArcGIS grants); got {raw}",
            )
        ]
    return []


def _check_server_url(kind: Kind, values: Mapping[str, Any]) -> List[Problem]:
    raw = values.get("server_url")
    if not raw:
        return []
    if not kind.federates:
        return [
            Problem(
                "server_url",
                "a federated server goes with an ArcGIS Online, Enterprise "
                "portal or ArcGIS Pro connection; clear it or change the connection type",
            )
        ]
    try:
        url = normalise_server_url(str(raw), "server_url")
    except ConfigError as exc:
        return [Problem("server_url", exc.reason)]
    return check_scheme(url, "server_url", bool(values.get("allow_http_loopback", True)))


def _check_proxy(values: Mapping[str, Any]) -> List[Problem]:
    raw = values.get("proxy")
    if not raw:
        if values.get("proxy_username") or values.get("proxy_password"):
            return [
                Problem(
                    "proxy",
                    "proxy credentials were given without a proxy: add the "
                    "proxy as host:port, or clear the proxy username and password",
                )
            ]
        return []
    if "@" in str(raw):
        # a password inside the proxy URL would be shown wherever the URL is (repr, logs,
        # the messages below): checked first, and the value is never repeated back
        return [
            Problem(
                "proxy",
                "must not contain credentials; give them as the proxy username and password",
            )
        ]
    scheme, host, port = proxy_parts(str(raw))
    if scheme not in ("http", "https"):
        return [Problem("proxy", f"scheme {scheme}:// is not supported; use http://host:port")]
    if not host or any(c.isspace() for c in str(raw).strip()):
        return [Problem("proxy", f"has no host: give it as host:port (got {raw!r})")]
    if port is None or port <= 0:
        return [Problem("proxy", f"needs a port, e.g. {host}:8080 (got {raw!r})")]
    if values.get("proxy_password") and not values.get("proxy_username"):
        return [Problem("proxy_username", "a proxy password needs a proxy username")]
    return []


def _check_tls(values: Mapping[str, Any]) -> List[Problem]:
    bundle = values.get("ca_bundle")
    problems = []
    if bundle and not os.path.isfile(str(bundle)):
        problems.append(
            Problem(
                "ca_bundle",
                f"file not found: {bundle}; give the path of a PEM "
                "file with your organisation's CA certificates",
            )
        )
    if values.get("verify") is False:
        problems.append(
            Problem(
                "verify",
                "certificate checks are off: anyone on the network "
                "path can read the password and tokens",
                "warning",
            )
        )
    return problems


def _check_referer(raw: Any) -> List[Problem]:
    """The referer travels in the Referer header: printable ASCII, no surrounding spaces.

    Anything else failed only when a request was sent (a bare UnicodeEncodeError for a
    non-Latin-1 letter), or silently (a leading space is dropped by the server, so every
    request was refused as 498).
    """
    if raw is None:
        return []
    if not usable_referer(str(raw)):
        return [
            Problem(
                "referer",
                f"must be a single line of plain ASCII text without surrounding spaces, "
                f"such as {DEFAULT_REFERER} or https://myapp.example.com",
            )
        ]
    return []


def _reveal(value: Any) -> Any:
    reveal = getattr(value, "reveal", None)
    return reveal() if callable(reveal) else value
