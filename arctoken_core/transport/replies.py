"""Reading ArcGIS replies: the one place error envelopes and HTTP statuses become errors.

An ArcGIS reply failed when its JSON holds ``error`` (``{"error": {"code": 498, ...}}``) or
``status: error``, or, without such JSON, when its HTTP status is 400 or more. Everything
that looks at a reply (sign-ins, discovery, the 498/499 check of ArcGISAuth) reads it here.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import (
    ArcGISServiceError,
    InvalidTokenError,
    PermissionDeniedError,
    ProxyError,
    ResponseFormatError,
    TokenRequiredError,
)
from ..secrets import redact
from ..urls import display_origin
from .failures import proxy_message

__all__ = [
    "MAX_INSPECT",
    "envelope_error",
    "error_from_code",
    "raise_for_envelope",
    "read_json",
    "token_rejected",
]

TOKEN_CODES = (498, 499)
MAX_INSPECT = 1 << 20
"""Bodies larger than this are data, not an error envelope: never read to look for 498."""

Envelope = Tuple[Optional[int], str, List[str]]
"""(code, message, details) of an ArcGIS error envelope."""


def read_json(response: requests.Response, what: str = "request") -> Dict[str, Any]:
    """Parse an ArcGIS JSON reply whatever its content type; raise typed errors for failures.

    A reply failed when HTTP >= 400 or the JSON holds ``error`` or ``status: error``.
    """
    payload = _parse_body(response, what)
    if payload is not None:
        raise_for_envelope(payload, what)
    if response.status_code == 407:
        raise ProxyError(proxy_message("407", response.url))
    if response.is_redirect:
        raise ResponseFormatError(_redirect_message(response, what))
    if response.status_code >= 400:
        raise _http_status_error(response, what)
    if payload is None:
        raise ResponseFormatError(_not_json_message(response, what))
    return payload


def envelope_error(payload: Mapping[str, Any]) -> Optional[Envelope]:
    """The (code, message, details) of an ArcGIS error envelope, or None when it is none."""
    error = payload.get("error")
    if isinstance(error, Mapping):
        message = str(error.get("message") or error.get("error_description") or "error")
        return _int_or_none(error.get("code")), message, _details(error.get("details"))
    if str(payload.get("status", "")).lower() == "error":
        messages = _details(payload.get("messages"))
        return _int_or_none(payload.get("code")), messages[0] if messages else "error", messages[1:]
    return None


def raise_for_envelope(payload: Mapping[str, Any], what: str = "request") -> None:
    """Raise the typed error an ArcGIS error envelope stands for; return if there is none."""
    found = envelope_error(payload)
    if found is not None:
        raise error_from_code(*found)


def token_rejected(response: requests.Response, stream: bool = False) -> Optional[int]:
    """498 or 499 when the response says the token is invalid or missing, else None.

    Only a small JSON-ish body is read: a large one is data, and a ``stream`` one is left
    unread (its HTTP status alone counts), so the caller still reads it as it comes.
    """
    if response.status_code in TOKEN_CODES:
        return response.status_code
    if stream:
        return None
    kind = response.headers.get("Content-Type", "")
    if not any(t in kind for t in ("json", "text/plain", "javascript")) and kind:
        return None
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > MAX_INSPECT:
        return None
    head = response.content[:MAX_INSPECT].lstrip()
    if not head.startswith(b"{") or b'"error"' not in head and b'"status"' not in head:
        return None
    try:
        payload = _load_object(head)
    except ValueError:
        return None
    found = envelope_error(payload) if payload is not None else None
    return found[0] if found is not None and found[0] in TOKEN_CODES else None


_HINTS = {
    429: "the server is limiting how often it is called: wait a little and try again",
    500: "the server failed while answering: try again later; if it persists, check the "
    "request and the server's logs",
    502: "the server or a proxy in between is unavailable: try again later",
    503: "the server or a proxy in between is unavailable or overloaded: try again later",
    504: "the server or a proxy in between timed out: try again later",
}
"""What to do about a transient failure; added to its message (it already was retried if safe)."""


def error_from_code(
    code: Optional[int], message: str, details: Any = (), *, envelope: bool = True
) -> ArcGISServiceError:
    """The ArcGISServiceError subclass for an ArcGIS error code (498, 499, 403...).

    Transient codes (429, 5xx) get a hint saying what to do, since the bare status line
    says what happened but not what to check. ``envelope`` is False for a bare HTTP status.
    """
    kinds = {498: InvalidTokenError, 499: TokenRequiredError, 403: PermissionDeniedError}
    cls = kinds.get(code or 0, ArcGISServiceError)
    text = redact(message)
    hint = _HINTS.get(code or 0)
    if hint and hint not in text:
        text = f"{text}; {hint}"
    return cls(code, text, [redact(d) for d in _details(details)], envelope=envelope)


def _load_object(text: Any) -> Optional[Dict[str, Any]]:
    """``text`` parsed as a JSON object; None for anything else. Raises ValueError if malformed."""
    try:
        payload = json.loads(text)
    except RecursionError:  # absurdly deep nesting
        raise ValueError("too deeply nested") from None
    return payload if isinstance(payload, dict) else None


def _parse_body(response: requests.Response, what: str) -> Optional[Dict[str, Any]]:
    text = _body_text(response)
    if not text or not text.startswith(("{", "[")):
        return None
    try:
        payload = _load_object(text)
    except ValueError:
        raise ResponseFormatError(
            f"{what}: {display_origin(response.url)} sent malformed JSON; the server or a proxy "
            "in between may be failing: try again, and check the URL and the proxy settings"
        ) from None
    if payload is None:
        raise ResponseFormatError(
            f"{what}: {display_origin(response.url)} sent JSON that is not an object; check the URL"
        )
    return payload


def _redirect_message(response: requests.Response, what: str) -> str:
    """A redirect that was not followed (credentials never follow one): say where it led."""
    try:
        target = urlsplit(urljoin(response.url or "", response.headers.get("Location", "")))
        where = f"{target.scheme}://{target.netloc.rsplit('@', 1)[-1]}{target.path}"
    except ValueError:
        where = "an unreadable address"
    return redact(
        f"{what}: {display_origin(response.url)} redirects to {where[:200]}; credentials are "
        "never sent on across a redirect, so check the URL and give the one it redirects to"
    )


def _body_text(response: requests.Response) -> str:
    """The body as text; a charset Python does not know is read as UTF-8, not an error."""
    try:
        return response.content.decode(response.encoding or "utf-8", errors="replace").strip()
    except LookupError:
        return response.content.decode("utf-8", errors="replace").strip()


def _not_json_message(response: requests.Response, what: str) -> str:
    origin = display_origin(response.url)
    if not response.content.strip():
        return f"{what}: {origin} sent an empty reply; check the URL"
    if b"<html" in response.content[:2000].lower() or "html" in response.headers.get(
        "Content-Type", ""
    ):
        return (
            f"{what}: {origin} sent an HTML page instead of ArcGIS JSON (a login page of a "
            "proxy or web adaptor?); check the URL and whether web-tier sign-in is required"
        )
    return f"{what}: {origin} did not send ArcGIS JSON; check the URL"


def _http_status_error(response: requests.Response, what: str) -> ArcGISServiceError:
    status = response.status_code
    if status == 401 and "WWW-Authenticate" in response.headers:
        return ArcGISServiceError(
            401,
            f"{what}: {display_origin(response.url)} asks for web-tier sign-in "
            f"({response.headers['WWW-Authenticate'].split(' ')[0]}), not an ArcGIS token",
            envelope=False,
        )
    message = f"{what}: HTTP {status} {response.reason or ''}".strip()
    if status in (401, 403):
        message += (
            " without an ArcGIS reply: a proxy, firewall or web server refused the request; "
            "check the URL and the proxy settings"
        )
    return error_from_code(status, message, envelope=False)


def _details(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _int_or_none(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's Infinity
        return None
