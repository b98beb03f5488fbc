"""The one place a ``requests.Session`` is made.

Every call made by this package (token requests included) goes through a session from
:func:`make_session`, so the proxy, TLS, timeout and retry settings the user chose apply to
all of them; each exchange is logged (redacted) at DEBUG.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import ProxyManager

from .._version import __version__
from ..errors import ProxyError
from ..secrets import get_logger, redact
from ..urls import display_origin, is_loopback
from .deadline import POOL_CLASSES, Deadline
from .failures import proxy_407_message
from .proxy_auth import ProxyLogon, TunnelAgain, answer_407, pool_classes
from .retry import BackoffRetry, Sleep
from .settings import HttpSettings

__all__ = ["THIRD_PARTY_LOGGERS", "USER_AGENT", "SettingsAdapter", "log_exchange", "make_session"]

log = get_logger(__name__)

USER_AGENT = f"arctoken/{__version__} python-requests/{requests.__version__}"

THIRD_PARTY_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")
"""urllib3 logs request lines (with any query-string token) at DEBUG: they get redacted too."""


class SettingsAdapter(HTTPAdapter):
    """An adapter with the user's default timeout, TLS choice and retries (urllib3 Retry)."""

    def __init__(self, settings: HttpSettings, sleep: Sleep = time.sleep) -> None:
        retry = BackoffRetry(
            settings.retries,
            backoff=settings.backoff,
            cap=settings.retry_after_cap,
            sleeper=sleep,
        )
        self._settings = settings  # before super().__init__, which makes the pool manager
        self._logons: Dict[str, Tuple[ProxyLogon, Dict[str, Any]]] = {}
        self._context = settings.ssl_context
        self._trust_pending = settings.system_trust and settings.ssl_context is None
        self._trust_lock = threading.Lock()
        super().__init__(max_retries=retry)

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with the default timeout and the user's TLS choice; urllib3 retries.

        The whole exchange (every retry, and the body unless ``stream``) has a total
        deadline (HttpSettings.total_seconds()); past it, a ReadTimeout.
        """
        if timeout is None:
            timeout = self._settings.timeout
        if self._trust_pending and (request.url or "").lower().startswith("https:"):
            self._trust_system_store()
        chosen = self._settings.ca_bundle or (None if self._settings.verify else False)
        if chosen is not None:
            # requests lets REQUESTS_CA_BUNDLE override Session.verify; the user's choice wins
            kwargs["verify"] = chosen
        with Deadline(self._settings.total_seconds()) as deadline:
            try:
                response = self._send(request, timeout, stream, kwargs)
            except Exception:
                if not deadline.passed:
                    raise
            else:
                if not deadline.passed:
                    return response
                response.close()  # cut short by the deadline: not a reply
        raise requests.exceptions.ReadTimeout(
            f"no whole reply within the total deadline of {deadline.seconds:g} s", request=request
        )

    def _send(
        self, request: requests.PreparedRequest, timeout: Any, stream: bool, kwargs: Any
    ) -> requests.Response:
        proxies = kwargs.get("proxies")
        proxy = select_proxy(request.url or "", proxies) if proxies else None
        if proxy and _secret_in_clear_to_loopback(request):
            log.info("a password or token to this machine goes direct, not through the proxy")
            kwargs["proxies"], proxy = {}, None
        logon = self._logon(proxy)[0] if proxy and _http_proxy(proxy) else None
        _proxy_authorization(request, logon)
        send = super().send

        def resend(again: requests.PreparedRequest) -> requests.Response:
            """One more leg of a sign-in challenge, on this adapter (its pooled connection)."""
            return send(again, timeout=timeout, **kwargs)

        try:
            response = self._send_once(request, timeout, stream, kwargs)
        except requests.exceptions.ProxyError as exc:
            if logon and "407" in str(exc):  # a CONNECT refused by a pool without our tunnel
                raise ProxyError(proxy_407_message(bool(logon.username))) from None
            raise
        if logon and response.status_code == 407 and _plain_http(request):
            response = answer_407(logon, response, resend)  # the proxy's own 407 (not tunnelled)
        if self._settings.web_auth is not None:  # a web server's sign-in challenge
            response = self._settings.web_auth.answer(response, resend)
        if not stream:
            response.content  # noqa: B018 - read here, under the deadline
        return response

    def _send_once(
        self, request: requests.PreparedRequest, timeout: Any, stream: bool, kwargs: Any
    ) -> requests.Response:
        """requests' send; once more when the proxy closed a CONNECT after asking (for Basic
        or a Windows login): the next tunnel answers at once (proxy_auth.TunnelAgain)."""
        try:
            return super().send(request, stream=stream, timeout=timeout, **kwargs)
        except TunnelAgain:
            return super().send(request, stream=stream, timeout=timeout, **kwargs)

    def _logon(self, proxy: str) -> Tuple[ProxyLogon, Dict[str, Any]]:
        """The proxy logon and pool classes for ``proxy``: one per proxy, for the session."""
        key = proxy if "://" in proxy else "http://" + proxy  # as requests names its manager
        if key not in self._logons:
            logon = ProxyLogon(key)
            self._logons.setdefault(key, (logon, pool_classes(logon)))
        return self._logons[key]

    def _trust_system_store(self) -> None:
        """Give https pools made from now on the system store's context (once, on demand:
        loading the store costs startup time that plain http never needs)."""
        with self._trust_lock:
            if not self._trust_pending:
                return
            from .tls_store import system_store

            self._context = system_store()
            if self._context is not None:
                managers = [self.poolmanager, *self.proxy_manager.values()]
                for manager in managers:
                    manager.connection_pool_kw["ssl_context"] = self._context
            self._trust_pending = False

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """requests' pool manager: the settings' TLS context, pools that keep the deadline."""
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(POOL_CLASSES)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """requests' proxy manager: the same TLS context; an http(s) proxy's pools keep
        their deadline too."""
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is ProxyManager:
            manager.pool_classes_by_scheme = dict(self._logon(proxy)[1])
        return manager

    def proxy_headers(self, proxy: str) -> Dict[str, str]:
        """None: the proxy logon (proxy_auth) sends the proxy's credentials, for plain http
        with the request and for https with the CONNECT, so that a Windows login can replace
        them (urllib3's pools would put these over any other)."""
        return {}


def _http_proxy(proxy: str) -> bool:
    """True for an http(s) proxy, the only kind that is signed in to: through a SOCKS proxy a
    ``Proxy-Authorization`` header, or an answer to a 407, would reach the server itself."""
    scheme = proxy.partition("://")[0].lower() if "://" in proxy else "http"
    return scheme in ("http", "https")


def _proxy_authorization(request: requests.PreparedRequest, logon: Optional[ProxyLogon]) -> None:
    """Set the Basic proxy credentials a plain-http request through the proxy goes with.

    Any other request goes without: through a tunnel a header reaches the server itself.
    """
    request.headers.pop("Proxy-Authorization", None)
    preemptive = logon.preemptive() if logon else None
    if preemptive and _plain_http(request):
        request.headers["Proxy-Authorization"] = preemptive


def _plain_http(request: requests.PreparedRequest) -> bool:
    """True for an http:// request: through a proxy it is the proxy that answers it.

    An https request's answer, even a 407, comes from the server at the end of the tunnel.
    """
    return urlsplit(request.url or "").scheme == "http"


def _secret_in_clear_to_loopback(request: requests.PreparedRequest) -> bool:
    """True for a plain-http request to this machine that carries a password or token.

    Such a request never goes through a proxy: the proxy would see the secret in clear.
    """
    parts = urlsplit(request.url or "")
    if parts.scheme != "http" or not is_loopback(parts.hostname):
        return False
    headers: Mapping[str, str] = request.headers
    if any(name in headers for name in ("X-Esri-Authorization", "Authorization")):
        return True
    body: Optional[Any] = request.body
    texts = [request.url or "", headers.get("Referer", "")]
    if isinstance(body, (str, bytes)):
        texts.append(body.decode("latin-1") if isinstance(body, bytes) else body)
    return any(redact(text) != text for text in texts)


def make_session(settings: HttpSettings, sleep: Sleep = time.sleep) -> requests.Session:
    """A session with the user's proxy, TLS and timeout choices applied to every request."""
    for name in THIRD_PARTY_LOGGERS:
        get_logger(name)
    session = requests.Session()
    adapter = SettingsAdapter(settings, sleep)
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
        via = "via proxy " + display_origin(proxies[scheme])
    log.debug(
        "%s %s -> %s %s (%.0f ms, %s)",
        request.method,
        request.url,
        response.status_code,
        response.reason,
        response.elapsed.total_seconds() * 1000,
        via,
    )
