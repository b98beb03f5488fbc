"""Plain data the emulator passes around: recorded requests, replies and header maps."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional, Tuple, TypeVar, Union, overload

JSON_TYPE = "application/json; charset=utf-8"
"""Content type of every ordinary JSON reply."""

_T = TypeVar("_T")
_SNIFF_LIMIT = 65536


class HeaderDict(Dict[str, str]):
    """Request headers as sent (original spelling kept); lookups ignore case."""

    def __init__(self, items: Iterable[Tuple[str, str]] = ()) -> None:
        super().__init__(items)

    def _find(self, name: object) -> Optional[str]:
        if not isinstance(name, str):
            return None
        if dict.__contains__(self, name):
            return name
        lowered = name.lower()
        for key in self.keys():
            if key.lower() == lowered:
                return key
        return None

    def __getitem__(self, name: str) -> str:
        key = self._find(name)
        if key is None:
            raise KeyError(name)
        return dict.__getitem__(self, key)

    def __contains__(self, name: object) -> bool:
        return self._find(name) is not None

    @overload
    def get(self, name: str, default: None = None, /) -> Optional[str]: ...

    @overload
    def get(self, name: str, default: str, /) -> str: ...

    @overload
    def get(self, name: str, default: _T, /) -> Union[str, _T]: ...

    def get(self, name: str, default: object = None, /) -> object:
        """Return the header named ``name`` in any letter case, else ``default``."""
        key = self._find(name)
        return default if key is None else dict.__getitem__(self, key)


@dataclass
class RequestRecord:
    """One request as an emulated origin received it (logged before any fault was applied),
    plus how it was answered once the reply is known."""

    origin: str
    """Which emulated origin answered: online, portal, server, federated or foreign."""
    method: str
    path: str
    """The URL path, without the query string."""
    query: Dict[str, str]
    form: Dict[str, str]
    """The parsed request body (form-encoded or a JSON object); the last value of a name wins."""
    headers: HeaderDict
    scheme: str
    """``http`` or ``https``."""
    time: float
    """The emulator's clock when the request arrived."""
    client_user: Optional[str] = None
    """The common name of the verified TLS client certificate (the PKI portal), else None."""
    status: Optional[int] = None
    """The answer's code: the error envelope's ``code`` (498, 499, 403, 400...) when the body
    has one, else the HTTP status; None until answered, and for a ``reset`` fault."""
    http_status: Optional[int] = None
    """The HTTP status line's code; None until answered, and for a ``reset`` fault."""

    def answered(self, reply: Response) -> None:
        """Note how the request was answered (called just before the reply is sent)."""
        self.http_status = reply.status
        self.status = answer_code(reply)


@dataclass
class Response:
    """A reply to write back: status, body bytes, content type and extra headers."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: Dict[str, str] = field(default_factory=dict)


def answer_code(reply: Response) -> int:
    """The code a client acts on: an error envelope's ``code`` when present, else HTTP status."""
    if reply.status == 200 and reply.body[:1] == b"{" and len(reply.body) < _SNIFF_LIMIT:
        try:
            body = json.loads(reply.body)
        except ValueError:
            return reply.status
        code = _envelope_code(body)
        if code is not None:
            return code
    return reply.status


def _envelope_code(body: object) -> Optional[int]:
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), int):
        return int(error["code"])
    if body.get("status") == "error" and isinstance(body.get("code"), int):
        return int(body["code"])
    return None


def json_reply(payload: object, status: int = 200, content_type: str = JSON_TYPE) -> Response:
    """A compact JSON reply."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status=status, body=body, content_type=content_type)
