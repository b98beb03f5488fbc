"""Signing in to the proxy: Basic with the given credentials, or a Windows login (NTLM/Negotiate).

A proxy that answers ``407`` names what it accepts in ``Proxy-Authenticate``. With a proxy
username and password, ``Basic`` goes with the first request of each connection (as requests
does), unless the username is a Windows account (``DOMAIN\\user``, ``user@domain``): its
password then goes only as Basic to a proxy that asked for Basic (remembered for the next
connections), so a Windows password is never sent in clear to a proxy that wants NTLM. A
proxy that offers ``Negotiate`` or ``NTLM`` gets a Windows login (:mod:`.logon`, the same
choice as the web tier): the given account and password, or with no proxy username the
current Windows logon. NTLM signs in a connection, so the legs go on the connection being
signed in: the pooled connection for plain http (:func:`answer_407`), the CONNECT connection
for https (:func:`open_tunnel`, urllib3's tunnel step). Only the http(s) proxy the request is
routed through ever gets the login (never a SOCKS proxy): a 407 from anything else is never
answered.
"""

from __future__ import annotations

import http.client
from base64 import b64encode
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import requests
from requests.utils import get_auth_from_url
from urllib3.connection import HTTPSConnection

from ..errors import ProxyError
from ..secrets import Secret, get_logger, register_secret
from .deadline import POOL_CLASSES
from .failures import proxy_407_message, proxy_refused_windows
from .logon import (
    SCHEMES,
    Leg,
    Legs,
    Resend,
    WindowsLogin,
    exchange,
    header_values,
    offered,
    pyspnego_missing,
)

__all__ = [
    "PROXY_MISSING",
    "ProxyLogon",
    "TunnelAgain",
    "answer_407",
    "open_tunnel",
    "pool_classes",
]

log = get_logger(__name__)

PROXY_MISSING = pyspnego_missing(
    "the proxy asks for Windows sign-in (NTLM/Negotiate, HTTP 407), which",
    "ArcGIS Pro's Python ships it",
)


def windows_account(username: str) -> bool:
    """True for ``DOMAIN\\user`` or ``user@domain`` (a UPN): a Windows password, never sent
    as Basic (in clear) before the proxy asks for Basic."""
    return "\\" in username or "@" in username


class TunnelAgain(Exception):
    """The proxy closed a CONNECT connection after asking for Basic or a Windows login: send
    the request again (the next connection sends Basic, or the first handshake leg, at once)."""


class ProxyLogon:
    """How to answer the proxy at ``proxy`` (a URL, credentials in its userinfo, if any)."""

    def __init__(self, proxy: str) -> None:
        username, password = get_auth_from_url(proxy)
        self.host = (urlsplit(proxy).hostname or "").lower()
        self.username = username or None
        self.password = Secret(password) if self.username else None
        self.login = WindowsLogin(self.username, self.password)
        self.basic_first = bool(self.username) and not windows_account(self.username or "")
        self.windows_first: Optional[str] = None
        """The Windows scheme to start each tunnel with, learnt from a proxy that closes the
        connection after its first 407 (the handshake then begins with the first CONNECT)."""
        """Send Basic with each connection's first request (learned for a Windows account)."""

    def __repr__(self) -> str:
        return f"ProxyLogon(host={self.host!r}, user={self.username or ''!r})"

    def preemptive(self) -> Optional[str]:
        """The ``Proxy-Authorization`` value for a connection's first request, if any."""
        return self._basic() if self.basic_first else None

    def respond(self, values: List[str], leg: Leg, connection_open: bool = True) -> None:
        """Answer a 407 whose ``Proxy-Authenticate`` values are ``values`` through ``leg``.

        Returns once the proxy stops asking. Raises:
            ProxyError: nothing we can answer, no login could be made, or the proxy refused it.
            TunnelAgain: the proxy closed the connection after asking (for Basic or a Windows
                login, not yet begun); send again.
        """
        basic = ("Basic",) if self.username and not self.basic_first else ()
        scheme = offered(values, SCHEMES + basic)
        if scheme is None:
            raise ProxyError(proxy_407_message(bool(self.username), ", ".join(values)))
        if scheme == "Basic":
            self.basic_first = True
            if not connection_open:
                raise TunnelAgain()
            if leg(self._basic()) is not None:
                raise ProxyError(proxy_407_message(True))
            return
        if not connection_open:  # the handshake has not begun: it goes on the next connection
            self.windows_first = scheme
            raise TunnelAgain()
        self.sign_in(scheme, leg)

    def sign_in(self, scheme: str, leg: Leg) -> None:
        """Run the Windows handshake for ``scheme`` through ``leg``, from its first token.

        Raises:
            ProxyError: no login could be made, or the proxy refused it.
        """
        handshake = self.login.handshake(scheme, self.host, self._cannot, PROXY_MISSING)
        if not exchange(handshake, leg):
            raise ProxyError(proxy_refused_windows(self.login.who))
        log.debug("signed in to the proxy %s with %s (%s)", self.host, self.login.who, scheme)

    def _cannot(self, reason: str) -> ProxyError:
        return ProxyError(proxy_refused_windows(self.login.who, reason))

    def _basic(self) -> str:
        """Basic credentials encoded as UTF-8 (requests' Latin-1 fails on others)."""
        password = self.password.reveal() if self.password else ""
        pair = f"{self.username}:{password}".encode()
        encoded = b64encode(pair).decode("ascii")
        register_secret(encoded)  # on the request a caller may print: masked like the rest
        return "Basic " + encoded


def answer_407(logon: ProxyLogon, response: requests.Response, resend: Resend) -> requests.Response:
    """The final response once the proxy's 407 ``response`` (plain http) is answered."""
    legs = Legs(response, resend, "Proxy-Authorization", 407)
    try:
        logon.respond(header_values(response.headers.get("Proxy-Authenticate", "")), legs.leg)
    except ProxyError:
        legs.last.close()
        raise
    return legs.final()


def open_tunnel(conn: Any, logon: ProxyLogon) -> None:
    """urllib3's tunnel step on ``conn`` (connected to the proxy): CONNECT, signing in if asked.

    Raises OSError as urllib3 does when the proxy answers neither 200 nor 407.
    """
    tunnel = _Connect(conn)
    try:
        if logon.windows_first:
            logon.sign_in(logon.windows_first, tunnel.leg)
        else:
            values = tunnel.leg(logon.preemptive())
            if values is not None:
                logon.respond(values, tunnel.leg, connection_open=not tunnel.closed)
    except Exception:
        conn.close()
        raise
    if tunnel.status != 200:
        conn.close()
        raise OSError(f"Tunnel connection failed: {tunnel.status} {tunnel.reason}")


class _Connect:
    """CONNECT requests on one connection to the proxy, one per leg."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        host = str(conn._tunnel_host)
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.target = f"{host}:{conn._tunnel_port}"
        given: Dict[str, str] = dict(conn._tunnel_headers or {})
        skip = ("host", "proxy-authorization")
        self.headers = {k: v for k, v in given.items() if k.lower() not in skip}
        self.status = 0
        self.reason = ""
        self.closed = False

    def leg(self, value: Optional[str]) -> Optional[List[str]]:
        """Send one CONNECT (with ``Proxy-Authorization: value``); the next 407's challenges,
        or None for any other answer."""
        if self.closed:
            raise ProxyError(
                "the proxy closed the connection while asking for Windows sign-in (HTTP "
                "407), so NTLM/Negotiate cannot finish; ask its administrators to keep "
                "connections open for NTLM, or for this host to be let through (NO_PROXY)"
            )
        lines = [f"CONNECT {self.target} HTTP/1.1", f"Host: {self.target}"]
        lines += [f"{name}: {text}" for name, text in self.headers.items()]
        lines += [f"Proxy-Authorization: {value}"] if value else []
        self.conn.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        reply = http.client.HTTPResponse(self.conn.sock, method="CONNECT")
        try:
            reply.begin()
            self.status, self.reason = reply.status, str(reply.reason).strip()
            if reply.status != 407:
                return None
            reply.read()  # the body, so the next leg starts at a fresh reply
            self.closed = bool(reply.will_close)
            return header_values(", ".join(reply.headers.get_all("Proxy-Authenticate") or []))
        finally:
            reply.close()


class _TunnelConnection(HTTPSConnection):
    """urllib3's https connection whose CONNECT tunnel signs in to the proxy (``logon``)."""

    logon: ProxyLogon

    def _tunnel(self) -> None:
        open_tunnel(self, self.logon)


def pool_classes(logon: ProxyLogon) -> Dict[str, Any]:
    """A proxy manager's pool classes: they keep the deadline, and open tunnels with ``logon``."""
    connection = type("TunnelConnection", (_TunnelConnection,), {"logon": logon})
    https = type("TunnelPool", (POOL_CLASSES["https"],), {"ConnectionCls": connection})
    return {**POOL_CLASSES, "https": https}
