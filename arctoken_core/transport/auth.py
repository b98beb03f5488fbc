"""ArcGISAuth: put it on any ``requests.Session`` and every request to a trusted host carries
a fresh token.

- The token goes only to hosts the connection trusts (the portal, servers proven federated
  with it, hosts the user listed); other hosts get nothing.
- It travels in the ``X-Esri-Authorization: Bearer`` header by default, or in the POST body;
  the query string only when the user asks (URLs end up in logs and proxies).
- A ``Referer`` header carries the token's referer, as referer-bound tokens require.
- A 498/499 (HTTP status or JSON ``error.code``) invalidates the token, gets a fresh one and
  sends the request once more (body rewound), judged on the URL that answered: after a
  redirect to a host that may get no token there is no retry, and another audience gets its
  own token. A body that cannot be re-read (a generator) is not re-sent: an error says so.
  A streamed reply (``stream=True``) is judged on its HTTP status alone, never read here.
  A 403 is not retried: the user lacks rights.
- A 499 to a token sent only in the header is a server before 10.6: the same token goes once
  more in the POST body (the query of a GET), and that host gets it there from then on.
- requests strips only ``Authorization`` on a cross-host redirect; this strips the token
  header, body field, query parameter and Referer too before the redirect is followed, and
  on any change of scheme (https -> http) even to the same host and port.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Set
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase
from requests.utils import rewind_body

from ..errors import ArcTokenError
from ..secrets import get_logger
from ..tokens.handler import TokenHandler
from ..tokens.token import Token
from ..urls import OriginKey, display_origin, origin_key
from .guard import check_transport
from .replies import error_from_code, token_rejected

__all__ = ["HEADER", "PLACEMENTS", "ArcGISAuth", "put_token", "strip_token"]

log = get_logger(__name__)

PLACEMENTS = ("header", "body", "query")
HEADER = "X-Esri-Authorization"

Resolver = Callable[[str], Optional[TokenHandler]]


class ArcGISAuth(AuthBase):
    """requests auth that adds an ArcGIS token for trusted hosts and recovers from 498/499.

    ``resolve(url)`` returns the TokenHandler whose token that URL may receive, or None.
    """

    def __init__(
        self, resolve: Resolver, placement: str = "header", allow_http_loopback: bool = True
    ) -> None:
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {PLACEMENTS}")
        self.resolve = resolve
        self.placement = placement
        self.allow_http_loopback = allow_http_loopback
        self.rejections = 0
        """Responses that said 498/499 and were retried once with a fresh token."""
        self.lock = threading.Lock()
        self.legacy: Set[OriginKey] = set()
        """Hosts that ignored the token header (servers before 10.6): they get it in the body."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        handler = self.resolve(request.url or "")
        if handler is None:
            return request
        self._attach(request, handler, retried=False)
        return request

    def handler_for(self, url: str) -> Optional[TokenHandler]:
        """The handler whose token ``url`` may carry; None for any other or unreadable URL."""
        try:
            return self.resolve(url)
        except (ValueError, ArcTokenError):  # an unparsable URL goes nowhere trusted
            return None

    def learn_legacy(self, request: requests.PreparedRequest) -> bool:
        """After a 499 to a header-only token: remember the host as one before 10.6.

        Servers before 10.6 ignore ``X-Esri-Authorization``; from then on that host gets
        the token in the POST body (or the query of a GET). False when that cannot help.
        """
        if self.placement != "header" or HEADER not in request.headers:
            return False
        try:
            origin = origin_key(request.url or "")
        except ArcTokenError:
            return False
        with self.lock:
            if origin in self.legacy:
                return False
            self.legacy.add(origin)
        log.info("%s ignores the token header (before 10.6?); sending it in the request", origin[0])
        return True

    def _placement(self, request: requests.PreparedRequest) -> str:
        if self.placement != "header":
            return self.placement
        try:
            legacy = origin_key(request.url or "") in self.legacy
        except ArcTokenError:
            legacy = False
        if not legacy:
            return "header"
        return "body" if _is_form(request) else "query"

    def _attach(
        self, request: requests.PreparedRequest, handler: TokenHandler, retried: bool
    ) -> None:
        check_transport(request.url or "", "a token", "url", self.allow_http_loopback)
        token = handler.token()
        put_token(request, token, self._placement(request))
        request.hooks["response"] = [
            h for h in request.hooks["response"] if not isinstance(h, _Hook)
        ]
        request.hooks["response"].append(_Hook(self, handler, token.value, retried))


class _Hook:
    """The response hook of one request: redirect guard, then the one 498/499 retry.

    The retry is judged on the URL that answered (after any redirect): a host that may not
    receive a token gets no retry, another audience gets its own token, never this one.
    """

    def __init__(self, auth: ArcGISAuth, handler: TokenHandler, value: str, retried: bool) -> None:
        self.auth = auth
        self.handler = handler
        self.value = value
        self.retried = retried

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.is_redirect:
            self._before_redirect(response)
            return response
        if self.retried:
            return response
        code = token_rejected(response, stream=bool(kwargs.get("stream")))
        if code is None:
            return response
        url = response.request.url or ""
        handler = self.auth.handler_for(url)
        if handler is None:
            log.info(
                "%s answered %s; no token may go there: not retried", display_origin(url), code
            )
            return response
        same = handler is self.handler
        if same and code == 499 and self.auth.learn_legacy(response.request):  # type: ignore[arg-type]
            return self._resend(response, handler, code, kwargs)
        with self.auth.lock:
            self.auth.rejections += 1
        if same:
            log.info("server answered %s; refreshing the token and retrying once", code)
            self.handler.invalidate(self.value)
        return self._resend(response, handler, code, kwargs)

    def _before_redirect(self, response: requests.Response) -> None:
        """Edit the request requests will copy for the redirect: no token for other hosts.

        The token stays only for the same audience over the same scheme (an https -> http
        redirect drops it). A redirect replaces the query string, and a 301/302/303 drops
        the body, so for a same-host redirect a token in either also goes in the header.
        """
        request = response.request
        try:
            target = urljoin(response.url, response.headers.get("location", ""))
            scheme = urlsplit(target).scheme == urlsplit(response.url).scheme
        except ValueError:  # an unparsable Location goes nowhere trusted
            target, scheme = "", False
        if not scheme or self.auth.handler_for(target) is not self.handler:
            strip_token(request)  # type: ignore[arg-type]
        elif self.auth.placement != "header":
            request.headers[HEADER] = f"Bearer {self.value}"

    def _resend(
        self, response: requests.Response, handler: TokenHandler, code: int, kwargs: Any
    ) -> requests.Response:
        retry = response.request.copy()
        if not _rewindable(retry):
            raise error_from_code(
                code,
                f"{display_origin(retry.url)} rejected the token ({code}) and the request was "
                "not sent again: its body is a stream that cannot be re-read. Pass the body as "
                "bytes or a file so that it can be retried",
            )
        strip_token(retry)
        if getattr(retry, "_body_position", None) is not None:
            rewind_body(retry)
        self.auth._attach(retry, handler, retried=True)
        response.close()
        connection = response.connection  # type: ignore[attr-defined]
        new: requests.Response = connection.send(retry, **kwargs)
        new.history.append(response)
        new.request = retry
        for hook in retry.hooks["response"]:
            new = hook(new, **kwargs) or new
        return new


def _rewindable(request: requests.PreparedRequest) -> bool:
    """True when the body can be sent again: none, text, bytes, or a file with a position."""
    body = request.body
    position = getattr(request, "_body_position", None)
    return body is None or isinstance(body, (str, bytes)) or isinstance(position, int)


def put_token(request: requests.PreparedRequest, token: Token, placement: str) -> None:
    """Attach ``token`` to ``request`` in the chosen place, with its Referer."""
    if token.referer:
        request.headers["Referer"] = token.referer
    if placement == "body" and _is_form(request):
        _set_form(request, token.value)
    elif placement == "query":
        request.url = _with_query_token(request.url or "", token.value)
    else:
        request.headers[HEADER] = f"Bearer {token.value}"


def strip_token(request: requests.PreparedRequest) -> None:
    """Remove every trace of a token this auth attached (header, body field, query, Referer)."""
    request.headers.pop(HEADER, None)
    request.headers.pop("Referer", None)
    if _is_form(request):
        _set_form(request, None)
    request.url = _with_query_token(request.url or "", None)


def _is_form(request: requests.PreparedRequest) -> bool:
    kind = request.headers.get("Content-Type", "")
    return "application/x-www-form-urlencoded" in kind and isinstance(request.body, (str, bytes))


def _set_form(request: requests.PreparedRequest, value: Optional[str]) -> None:
    body = request.body
    text = body.decode("utf-8") if isinstance(body, bytes) else str(body or "")
    fields = [(k, v) for k, v in parse_qsl(text, keep_blank_values=True) if k != "token"]
    if value is not None:
        fields.append(("token", value))
    request.body = urlencode(fields)
    request.prepare_content_length(request.body)


def _with_query_token(url: str, value: Optional[str]) -> str:
    parts = urlsplit(url)
    fields = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    if value is None and len(fields) == len(parse_qsl(parts.query, keep_blank_values=True)):
        return url
    if value is not None:
        fields.append(("token", value))
    return urlunsplit(parts._replace(query=urlencode(fields)))
