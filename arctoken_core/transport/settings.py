"""HttpSettings: the user's proxy, TLS, timeout and retry choices, checked once."""

from __future__ import annotations

import math
import ssl
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Protocol, Tuple
from urllib.parse import quote, urlsplit, urlunsplit

from ..errors import ConfigError
from ..secrets import Secret

if TYPE_CHECKING:
    import requests

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_TIMEOUT",
    "HttpSettings",
    "Timeout",
    "WebAuth",
    "checked_timeout",
    "uses_system_store",
]

MAX_TIMEOUT = 86400.0
"""A day: no single HTTP exchange should wait longer (the OS clock overflows at centuries)."""

DEFAULT_DEADLINE = 300.0
"""Five minutes for one whole exchange unless the timeouts ask for more."""

Timeout = Tuple[float, float]


class WebAuth(Protocol):
    """Signs in at the web tier when a server challenges a request (see ``negotiate``)."""

    def answer(
        self,
        response: requests.Response,
        resend: Callable[[requests.PreparedRequest], requests.Response],
    ) -> requests.Response:
        """The final response once ``response``'s challenge is answered (itself if none)."""
        ...


DEFAULT_TIMEOUT: Timeout = (10.0, 60.0)
"""Seconds to connect, and to wait for each read."""
DEFAULT_RETRIES = 3
"""Retries of an idempotent call that failed on the way (a reset, a 502...)."""


class HttpSettings(NamedTuple):
    """How to reach ArcGIS: proxy, TLS, timeouts and retries (immutable).

    Checked by ``connection`` (:func:`checked_timeout` for the timeouts) before it is made.
    """

    proxy: Optional[str] = None
    proxy_username: Optional[str] = None
    proxy_password: Optional[Secret] = None
    use_system_proxy: bool = True
    verify: bool = True
    ca_bundle: Optional[str] = None
    timeout: Timeout = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5
    retry_after_cap: float = 30.0
    allow_http_loopback: bool = True
    ssl_context: Optional[ssl.SSLContext] = None
    """For every https connection: a client certificate and the CAs to trust (tls_store)."""
    system_trust: bool = False
    """Without ``ssl_context``: trust the operating system's CA store too (truststore), set
    up at the first https request (plain http to this machine never needs it)."""
    web_auth: Optional[WebAuth] = None
    """Answers a web server's Negotiate/NTLM challenge (Windows sign-in, negotiate)."""
    deadline: Optional[float] = None
    """Seconds one whole exchange may take, retries and body included (None: the default)."""

    def total_seconds(self) -> float:
        """The total deadline: ``deadline``, or 300 s (at least connect + 2 x read timeout)."""
        if self.deadline is not None and _positive_seconds(self.deadline):
            return float(self.deadline)
        return max(DEFAULT_DEADLINE, self.timeout[0] + 2 * self.timeout[1])

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


def uses_system_store(verify: bool, ca_bundle: Optional[str]) -> bool:
    """Whether certificates are checked against the system's store: verified, no CA bundle."""
    return verify and not ca_bundle


def checked_timeout(pair: Tuple[Any, Any]) -> Timeout:
    """``pair`` as (connect, read) seconds, refusing what no socket accepts (NaN, infinity,
    zero or less, centuries).

    Without this such a timeout got as far as the socket and failed there with a bare
    ValueError or OverflowError instead of a ConfigError naming the field.
    """
    if not all(_positive_seconds(value) for value in pair):
        raise ConfigError(
            "timeout", f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}"
        )
    return float(pair[0]), float(pair[1])


def _positive_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= MAX_TIMEOUT
