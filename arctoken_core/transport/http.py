"""The one place a ``requests.Session`` is made, and the one place ArcGIS replies are read.

Every call made by this package (token requests included) goes through a session from
:func:`make_session`, so the proxy, TLS and timeout settings the user chose apply to all of
them. Idempotent calls are retried with backoff on connection errors, 429 and 5xx; a POST is
retried only when the connection was never made (nothing reached the server).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Set, Tuple, Union
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .._version import __version__
from ..errors import (
    ArcGISServiceError,
    ConfigError,
    InsecureTransportError,
    InvalidTokenError,
    PermissionDeniedError,
    ProxyError,
    ResponseFormatError,
    TLSError,
    TokenRequiredError,
    TransportError,
)
from ..secrets import Secret, get_logger, redact
from ..urls import is_loopback

log = get_logger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"arctoken/{__version__} python-requests/{requests.__version__}"

_warned: Set[Tuple[str, Optional[str]]] = set()
"""(what, host) pairs already warned about, so a long run warns once, not per request."""

MAX_TIMEOUT = 86400.0
"""A day: no single HTTP exchange should wait longer (the OS clock overflows at centuries)."""

Timeout = Tuple[float, float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class HttpSettings:
    """How to reach ArcGIS: proxy, TLS, timeouts and retries. Validated by ``connection``."""

    proxy: Optional[str] = None
    proxy_username: Optional[str] = None
    proxy_password: Optional[Secret] = None
    use_system_proxy: bool = True
    verify: bool = True
    ca_bundle: Optional[str] = None
    timeout: Timeout = (10.0, 60.0)
    retries: int = 3
    backoff: float = 0.5
    retry_after_cap: float = 30.0
    allow_http_loopback: bool = True

    def __post_init__(self) -> None:
        """Refuse timeouts that no socket accepts (NaN, infinity, zero or less, centuries).

        Without this such a timeout got as far as the socket and failed there with a bare
        ValueError or OverflowError instead of a ConfigError naming the field.
        """
        if not all(_positive_seconds(value) for value in self.timeout):
            raise ConfigError(
                "timeout", f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}"
            )

    def proxy_url(self) -> Optional[str]:
        """The explicit proxy as a URL with its credentials, or None to use no/system proxy."""
        if not self.proxy:
            return None
        parts = urlsplit(self.proxy if "://" in self.proxy else "http://" + self.proxy)
        if not self.proxy_username:
            return urlunsplit(parts)
        password = self.proxy_password.reveal() if self.proxy_password else ""
        userinfo = quote(self.proxy_username, safe="") + ":" + quote(password, safe="")
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, "", ""))


class RetryingAdapter(HTTPAdapter):
    """An adapter that applies default timeouts and retries with capped, honest backoff."""

    def __init__(self, settings: HttpSettings, sleep: Sleep = time.sleep) -> None:
        super().__init__(max_retries=0)
        self._settings = settings
        self._sleep = sleep

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        """Send with the default timeout; retry what is safe to retry."""
        if timeout is None:
            timeout = self._settings.timeout
        chosen = self._settings.ca_bundle or (None if self._settings.verify else False)
        if chosen is not None:
            # requests lets REQUESTS_CA_BUNDLE override Session.verify; the user's choice wins
            kwargs["verify"] = chosen
        method = (request.method or "GET").upper()
        attempt = 0
        while True:
            try:
                response = super().send(request, timeout=timeout, **kwargs)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if not self._may_retry_error(exc, method, attempt):
                    raise
                delay = self._backoff(attempt)
                log.info("retrying %s %s after %s (%.1fs)", method, request.url, _kind(exc), delay)
            else:
                if not self._may_retry_status(response, method, attempt):
                    return response
                delay = self._retry_after(response, attempt)
                log.info(
                    "retrying %s %s after HTTP %s (%.1fs)",
                    method,
                    request.url,
                    response.status_code,
                    delay,
                )
                response.close()
            attempt += 1
            self._sleep(delay)

    def _may_retry_error(self, exc: Exception, method: str, attempt: int) -> bool:
        if attempt >= self._settings.retries:
            return False
        if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
            return False
        return _never_connected(exc) or method in IDEMPOTENT

    def _may_retry_status(self, response: requests.Response, method: str, attempt: int) -> bool:
        return (
            attempt < self._settings.retries
            and response.status_code in RETRY_STATUSES
            and method in IDEMPOTENT
        )

    def _backoff(self, attempt: int) -> float:
        delay: float = self._settings.backoff * (2**attempt)
        return min(delay, self._settings.retry_after_cap)

    def _retry_after(self, response: requests.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        try:
            wanted = float(str(header))
        except ValueError:
            return self._backoff(attempt)
        return max(0.0, min(wanted, self._settings.retry_after_cap))


THIRD_PARTY_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")
"""urllib3 logs request lines (with any query-string token) at DEBUG: they get redacted too."""


def make_session(settings: HttpSettings, sleep: Sleep = time.sleep) -> requests.Session:
    """A session with the user's proxy, TLS and timeout choices applied to every request."""
    for name in THIRD_PARTY_LOGGERS:
        get_logger(name)
    session = requests.Session()
    adapter = RetryingAdapter(settings, sleep)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.hooks["response"].append(log_exchange)
    explicit = settings.proxy_url()
    if explicit:
        session.trust_env = False
        session.proxies = {"http": explicit, "https": explicit}
    else:
        session.trust_env = settings.use_system_proxy
    session.verify = settings.ca_bundle if settings.ca_bundle else settings.verify
    return session


def log_exchange(response: requests.Response, **kwargs: Any) -> None:
    """Log one HTTP exchange at DEBUG (``--verbose``), redacted: what a proxy problem needs."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    request = response.request
    via = "direct"
    proxies = kwargs.get("proxies") or {}
    scheme = urlsplit(request.url or "").scheme
    if proxies.get(scheme):
        via = "via proxy " + _origin(proxies[scheme])
    log.debug(
        "%s %s -> %s %s (%.0f ms, %s)",
        request.method,
        request.url,
        response.status_code,
        response.reason,
        response.elapsed.total_seconds() * 1000,
        via,
    )


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


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    params: Optional[Mapping[str, Any]] = None,
    data: Optional[Mapping[str, Any]] = None,
    headers: Optional[Mapping[str, str]] = None,
    what: str = "request",
    allow_redirects: bool = True,
) -> requests.Response:
    """Send one request, turning transport failures into typed, redacted errors.

    Requests that carry a password, a client secret or a token to exchange pass
    ``allow_redirects=False``: requests re-sends a POST body on a 307/308 redirect, to any
    host and over any scheme, so following one could hand the credentials to someone else.
    :func:`read_json` turns the redirect into an error that names where it pointed.
    """
    try:
        return session.request(
            method, url, params=params, data=data, headers=headers, allow_redirects=allow_redirects
        )
    except requests.exceptions.ProxyError as exc:
        raise ProxyError(_proxy_message(exc, url)) from None
    except requests.exceptions.SSLError as exc:
        if "WRONG_VERSION_NUMBER" in str(exc):
            raise TLSError(
                f"{what}: {_origin(url)} did not answer in TLS; is it a plain http port? "
                "Check the URL's scheme and port"
            ) from None
        raise TLSError(
            f"{what}: the certificate of {_origin(url)} could not be verified "
            f"({_short(exc)}); check the CA bundle setting or the server's certificate"
        ) from None
    except requests.exceptions.Timeout:
        raise TransportError(
            f"{what}: {_origin(url)} did not answer in time; check the URL, the network "
            "and the proxy settings, or raise the timeout"
        ) from None
    except requests.exceptions.RequestException as exc:
        raise TransportError(_unreachable_message(exc, url, what)) from None


def _unreachable_message(exc: requests.exceptions.RequestException, url: str, what: str) -> str:
    """Say whether the connection was never made or broke after the request went out."""
    if isinstance(exc, requests.exceptions.ConnectionError) and not _never_connected(exc):
        return (
            f"{what}: the connection to {_origin(url)} broke before a whole reply came "
            f"({_short(exc)}); the server or a proxy in between dropped it. Try again; if it "
            "keeps happening, check the proxy settings and the server"
        )
    return (
        f"{what}: could not reach {_origin(url)} ({_short(exc)}); check the URL, the "
        "network and the proxy settings"
    )


def _never_connected(exc: BaseException) -> bool:
    """True when no connection was made, so nothing reached the server."""
    return isinstance(exc, requests.exceptions.ConnectTimeout) or "NewConnectionError" in repr(exc)


def read_json(response: requests.Response, what: str = "request") -> Dict[str, Any]:
    """Parse an ArcGIS JSON reply whatever its content type; raise typed errors for failures.

    A reply failed when HTTP >= 400 or the JSON holds ``error`` or ``status: error``.
    """
    payload = _parse_body(response, what)
    if payload is not None:
        raise_for_envelope(payload, what)
    if response.status_code == 407:
        raise ProxyError(_proxy_message("407", response.url))
    if response.is_redirect:
        raise ResponseFormatError(_redirect_message(response, what))
    if response.status_code >= 400:
        raise _http_status_error(response, what)
    if payload is None:
        raise ResponseFormatError(_not_json_message(response, what))
    return payload


def raise_for_envelope(payload: Mapping[str, Any], what: str = "request") -> None:
    """Raise the typed error an ArcGIS error envelope stands for; return if there is none."""
    error = payload.get("error")
    if isinstance(error, Mapping):
        raise error_from_code(
            _int_or_none(error.get("code")),
            str(error.get("message") or error.get("error_description") or "error"),
            _details(error.get("details")),
        )
    if str(payload.get("status", "")).lower() == "error":
        messages = _details(payload.get("messages"))
        raise error_from_code(
            _int_or_none(payload.get("code")), messages[0] if messages else "error", messages[1:]
        )


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


def _parse_body(response: requests.Response, what: str) -> Optional[Dict[str, Any]]:
    text = _body_text(response)
    if not text or not text.startswith(("{", "[")):
        return None
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ResponseFormatError(
            f"{what}: {_origin(response.url)} sent malformed JSON; the server or a proxy "
            "in between may be failing: try again, and check the URL and the proxy settings"
        ) from None
    if not isinstance(payload, dict):
        raise ResponseFormatError(
            f"{what}: {_origin(response.url)} sent JSON that is not an object; check the URL"
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
        f"{what}: {_origin(response.url)} redirects to {where[:200]}; credentials are never "
        "sent on across a redirect, so check the URL and give the one it redirects to"
    )


def _body_text(response: requests.Response) -> str:
    """The body as text; a charset Python does not know is read as UTF-8, not an error."""
    try:
        return response.content.decode(response.encoding or "utf-8", errors="replace").strip()
    except LookupError:
        return response.content.decode("utf-8", errors="replace").strip()


def _not_json_message(response: requests.Response, what: str) -> str:
    origin = _origin(response.url)
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
            f"{what}: {_origin(response.url)} asks for web-tier sign-in "
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


def _details(value: Any) -> list[str]:
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


def _positive_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= MAX_TIMEOUT


def _origin(url: Union[str, None]) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


_REASONS = (
    ("certificate has expired", "the certificate has expired"),
    ("self-signed certificate", "the certificate is self-signed"),
    ("self signed certificate", "the certificate is self-signed"),
    ("unable to get local issuer certificate", "the certificate's CA is not trusted"),
    ("mismatch", "the certificate is for another host name"),
    ("no certificate or crl found", "the CA bundle holds no PEM certificate"),
    ("certificate verify failed", "certificate verify failed"),
    ("Connection refused", "Connection refused"),
    ("Connection reset by peer", "Connection reset by peer"),
    ("RemoteDisconnected", "the server closed the connection"),
    ("Name or service not known", "Name or service not known"),
)
"""Markers in requests' exception texts, and what they mean in a user's words."""


def _short(exc: Union[BaseException, str]) -> str:
    text = redact(str(exc))
    for marker, reason in _REASONS:
        if marker in text:
            return reason
    return text[:160]


def _kind(exc: BaseException) -> str:
    return type(exc).__name__


def _proxy_message(exc: Union[BaseException, str], url: str) -> str:
    text = str(exc)
    if "407" in text:
        return (
            "the proxy refused the proxy credentials (HTTP 407); check the proxy username "
            "and password"
        )
    return (
        f"could not reach {_origin(url)} through the proxy ({_short(exc)}); check the proxy "
        "URL and port"
    )
