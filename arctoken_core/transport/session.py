"""The one place a ``requests.Session`` is made.

Every call made by this package (token requests included) goes through a session from
:func:`make_session`, so the proxy, TLS, timeout and retry settings the user chose apply to
all of them; each exchange is logged (redacted) at DEBUG.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .._version import __version__
from ..secrets import get_logger
from ..urls import display_origin
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
        super().__init__(max_retries=retry)
        self._settings = settings

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        """Send with the default timeout and the user's TLS choice; urllib3 retries."""
        if timeout is None:
            timeout = self._settings.timeout
        chosen = self._settings.ca_bundle or (None if self._settings.verify else False)
        if chosen is not None:
            # requests lets REQUESTS_CA_BUNDLE override Session.verify; the user's choice wins
            kwargs["verify"] = chosen
        return super().send(request, timeout=timeout, **kwargs)


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
