"""Sending one request, and what each network failure means in a user's words.

Failures are told apart by the TYPES in the exception chain requests and urllib3 build
(a ``socket.gaierror`` is a DNS failure on urllib3 1.26 and 2.x alike), never by their text,
which changes between versions. Every message is redacted and names what to check.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from typing import Any, Iterator, List, Mapping, Optional, Set, Type, Union

import requests
from urllib3 import exceptions as u3

from ..errors import ArcTokenError, ProxyError, TLSError, TransportError
from ..secrets import redact
from ..urls import display_origin
from .logon import header_values, scheme_names

__all__ = [
    "call",
    "failure_error",
    "never_connected",
    "proxy_407_message",
    "proxy_message",
    "proxy_refused_windows",
]

_MAX_CHAIN = 12


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
    ``read_json`` turns the redirect into an error that names where it pointed.
    """
    try:
        return session.request(
            method, url, params=params, data=data, headers=headers, allow_redirects=allow_redirects
        )
    except requests.exceptions.RequestException as exc:
        raise failure_error(exc, url, what) from None


def failure_error(exc: BaseException, url: str, what: str) -> ArcTokenError:
    """The typed error for a request that got no usable answer (``exc`` from requests)."""
    if _find(exc, u3.ProxyError) or isinstance(exc, requests.exceptions.ProxyError):
        return ProxyError(proxy_message(exc, url))
    tls = _find(exc, ssl.SSLError)
    if tls is not None or isinstance(exc, requests.exceptions.SSLError):
        return TLSError(_tls_message(tls, exc, url, what))
    if _timed_out(exc):
        return TransportError(
            f"{what}: {display_origin(url)} did not answer in time; check the URL, the network "
            "and the proxy settings, or raise the timeout"
        )
    if _find(exc, socket.gaierror) is not None:
        return TransportError(
            f"{what}: the host name of {display_origin(url)} could not be resolved (DNS "
            "failure); check the host name in the URL, the network and the DNS settings"
        )
    if not never_connected(exc):
        return TransportError(
            f"{what}: the connection to {display_origin(url)} broke before a whole reply came "
            f"({_reason(exc)}); the server or a proxy in between dropped it. Try again; if it "
            "keeps happening, check the proxy settings and the server"
        )
    return TransportError(
        f"{what}: could not reach {display_origin(url)} ({_reason(exc)}); check the URL, the "
        "network and the proxy settings"
    )


def never_connected(exc: BaseException) -> bool:
    """True when no connection was made, so nothing reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return _find(exc, u3.NewConnectionError) is not None or _find(exc, ConnectionRefusedError)


def proxy_message(exc: Union[BaseException, str], url: str) -> str:
    """Why the proxy did not pass the request on, and what to check."""
    if isinstance(exc, str) and "407" in exc:
        return (
            "the proxy refused the proxy credentials (HTTP 407); check the proxy username "
            "and password"
        )
    if isinstance(exc, BaseException) and "407" in str(exc):
        return proxy_message("407", url)
    return (
        f"could not reach {display_origin(url)} through the proxy ({_reason(exc)}); check the "
        "proxy URL and port"
    )


def proxy_407_message(credentials_given: bool, schemes: str = "") -> str:
    """What a 407 we cannot answer means: wrong credentials, none given, or an unknown scheme.

    ``schemes`` is the proxy's ``Proxy-Authenticate`` header, when there was one to read. A
    proxy offering NTLM or Negotiate is answered with a Windows login (``proxy_auth``).
    """
    offered = set(scheme_names(header_values(schemes)))
    if offered and not offered & {"basic", "ntlm", "negotiate"}:
        names = ", ".join(sorted(offered))
        return (
            f"the proxy asks for a kind of sign-in this tool cannot give ({names}, HTTP 407); "
            "ask for a proxy that accepts Basic, NTLM or Negotiate, or for this host to be "
            "let through without the proxy (NO_PROXY)"
        )
    if not credentials_given:
        return (
            "the proxy asks for credentials (HTTP 407) and none were given; set the proxy "
            "username and password"
        )
    return proxy_message("407", "")


def proxy_refused_windows(who: str, reason: str = "") -> str:
    """The proxy did not take the Windows login ``who`` (NTLM/Negotiate), or none was made."""
    why = f"could not make one: {reason}" if reason else "HTTP 407"
    return (
        f"the proxy refused the Windows login with {who} ({why}); check the proxy username "
        "(as DOMAIN\\user) and password, or leave both empty to sign in to the proxy with "
        "your Windows logon"
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: arguments, ``reason``, ``original_error``, causes, contexts."""
    todo: List[BaseException] = [exc]
    seen: Set[int] = set()
    while todo and len(seen) < _MAX_CHAIN:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [getattr(current, "reason", None), getattr(current, "original_error", None)]
        inner += list(current.args) + [current.__cause__, current.__context__]
        todo += [e for e in inner if isinstance(e, BaseException)]


def _find(exc: Union[BaseException, str], kind: Type[Any]) -> Any:
    if isinstance(exc, str):
        return None
    return next((e for e in _chain(exc) if isinstance(e, kind)), None)


def _timed_out(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    if _find(exc, u3.ReadTimeoutError) is not None:
        return True
    connect = _find(exc, u3.ConnectTimeoutError)
    return connect is not None and not isinstance(connect, u3.NewConnectionError)


_CAUSES = (
    (ConnectionRefusedError, "Connection refused"),
    (ConnectionResetError, "Connection reset by peer"),
    (http.client.RemoteDisconnected, "the server closed the connection"),
    (http.client.IncompleteRead, "the reply was cut short"),
    (socket.gaierror, "Name or service not known"),
)
"""Exception types found in a failure's chain, and what they mean in a user's words."""

_VERIFY_CODES = {
    10: "the certificate has expired",
    18: "the certificate is self-signed",
    19: "the certificate is self-signed",
    20: "the certificate's CA is not trusted",
    62: "the certificate is for another host name",
    64: "the certificate is for another host name",
}
"""OpenSSL's X509 verify codes (``ssl.SSLCertVerificationError.verify_code``)."""

_SSL_REASONS = {"NO_CERTIFICATE_OR_CRL_FOUND": "the CA bundle holds no PEM certificate"}
"""OpenSSL's reasons (``ssl.SSLError.reason``) that need other words than their own."""


def _reason(exc: Union[BaseException, str]) -> str:
    for kind, words in _CAUSES:
        if _find(exc, kind) is not None:
            return words
    return redact(str(exc))[:160]


def _tls_message(tls: Optional[ssl.SSLError], exc: BaseException, url: str, what: str) -> str:
    if tls is not None and tls.reason == "WRONG_VERSION_NUMBER":
        return (
            f"{what}: {display_origin(url)} did not answer in TLS; is it a plain http port? "
            "Check the URL's scheme and port"
        )
    client_cert = _client_certificate_message(tls, url, what)
    if client_cert:
        return client_cert
    if isinstance(tls, ssl.SSLCertVerificationError):
        why = _VERIFY_CODES.get(tls.verify_code, "certificate verify failed")
    elif tls is not None and tls.reason:
        why = _SSL_REASONS.get(tls.reason, str(tls.reason).lower().replace("_", " "))
    else:
        why = redact(str(exc))[:160]
    return (
        f"{what}: the certificate of {display_origin(url)} could not be verified "
        f"({why}); check the CA bundle setting or the server's certificate"
    )


_CLIENT_CERT_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "none was sent",
    "SSLV3_ALERT_BAD_CERTIFICATE": "refused the one sent",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "refused the one sent",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "refused the one sent",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the one sent has expired",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "the one sent is revoked",
    "TLSV1_ALERT_UNKNOWN_CA": "does not trust the CA of the one sent",
    "TLSV1_ALERT_ACCESS_DENIED": "refused the one sent",
}
"""TLS alerts the SERVER sent about our client certificate (OpenSSL's ``reason``): an alert
received, never our own check of the server's certificate (that is SSLCertVerificationError)."""
_MAYBE_CLIENT_CERT = {
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "refused the TLS handshake",
    "UNEXPECTED_EOF_WHILE_READING": "closed the TLS connection without a word",
}
"""Failures a server that requires a client certificate causes when none is sent (TLS 1.2
ends the handshake; TLS 1.3 closes the connection), that can also have other causes."""
_GIVE_CERTIFICATE = (
    "give your client certificate (cert_file and key_file; in the toolbox, Client Certificate "
    "File and Client Certificate Key File), issued by a CA the server trusts"
)


def _client_certificate_message(tls: Optional[ssl.SSLError], url: str, what: str) -> str:
    """The words for a server that asks for a client certificate (PKI), or ``""``."""
    reason = tls.reason if tls is not None else None
    if reason in _CLIENT_CERT_ALERTS:
        return (
            f"{what}: {display_origin(url)} asks for a client certificate (PKI) and "
            f"{_CLIENT_CERT_ALERTS[str(reason)]} ({str(reason).lower().replace('_', ' ')}); "
            f"{_GIVE_CERTIFICATE}"
        )
    if isinstance(tls, ssl.SSLEOFError) or reason in _MAYBE_CLIENT_CERT:
        why = _MAYBE_CLIENT_CERT.get(
            str(reason), _MAYBE_CLIENT_CERT["UNEXPECTED_EOF_WHILE_READING"]
        )
        return (
            f"{what}: {display_origin(url)} {why}; a server that asks for a client "
            f"certificate (PKI) does this when it gets none it accepts: {_GIVE_CERTIFICATE}. "
            "Otherwise check the proxy settings and the server's TLS settings"
        )
    return ""
