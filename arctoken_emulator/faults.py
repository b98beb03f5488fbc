"""Injected failures: the next N matching requests get a fault instead of a normal answer."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

from .records import JSON_TYPE, Response, json_reply

Option = Union[int, float, str]
"""The value of a fault option (status, body, retry_after, seconds)."""
KINDS = frozenset({"status", "429", "delay", "reset", "malformed_json", "html_login", "empty"})
"""Every fault kind :meth:`FaultBook.add` accepts."""

LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>ArcGIS Sign In</title></head><body>"
    '<form method="post" action="/portal/sharing/rest/oauth2/signin">'
    '<input name="username"><input name="password" type="password">'
    "<button>Sign In</button></form></body></html>"
)
"""What an ``html_login`` fault answers: a web-tier sign-in page."""


@dataclass
class Fault:
    """One injected fault and how many more requests it will hit."""

    path_contains: str
    kind: str
    remaining: int
    options: Dict[str, Option] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Real seconds a ``delay`` fault waits before the normal answer."""
        return float(self.options.get("seconds", 1.0))

    def response(self) -> Optional[Response]:
        """The reply this fault sends instead of the normal one (None: delay or reset)."""
        maker = _MAKERS.get(self.kind)
        return maker(self.options) if maker is not None else None


def _status(options: Dict[str, Option]) -> Response:
    status = int(options.get("status", 503))
    text = options.get("body")
    if text is None:
        page = f"<html><body><h1>{status} Error</h1></body></html>"
        return Response(status, page.encode(), "text/html; charset=utf-8")
    body = str(text)
    kind = JSON_TYPE if body.lstrip().startswith("{") else "text/plain; charset=utf-8"
    return Response(status, body.encode("utf-8"), str(options.get("content_type", kind)))


def _too_many(options: Dict[str, Option]) -> Response:
    reply = json_reply({"error": {"code": 429, "message": "Too Many Requests", "details": []}})
    reply.status = 429
    reply.headers["Retry-After"] = str(options.get("retry_after", 1))
    return reply


def _malformed(options: Dict[str, Option]) -> Response:
    return Response(200, b"{not json", JSON_TYPE)


def _html_login(options: Dict[str, Option]) -> Response:
    return Response(200, LOGIN_PAGE.encode(), "text/html; charset=utf-8")


def _empty(options: Dict[str, Option]) -> Response:
    return Response(200, b"", JSON_TYPE)


_MAKERS = {
    "status": _status,
    "429": _too_many,
    "malformed_json": _malformed,
    "html_login": _html_login,
    "empty": _empty,
}


class FaultBook:
    """Pending faults, oldest first; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: List[Fault] = []

    def add(self, path_contains: str, kind: str, count: int = 1, **options: Option) -> None:
        """Queue a fault for the next ``count`` requests whose path contains ``path_contains``."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if kind == "status" and not 100 <= int(options.get("status", 503)) <= 599:
            raise ValueError("status must be an HTTP status code")
        with self._lock:
            self._faults.append(Fault(path_contains.lower(), kind, count, dict(options)))

    def take(self, path: str) -> Optional[Fault]:
        """The first pending fault matching ``path`` (case-insensitive), using up one hit."""
        lowered = path.lower()
        with self._lock:
            for fault in self._faults:
                if fault.path_contains in lowered:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()
