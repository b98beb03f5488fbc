"""A forwarding proxy on 127.0.0.1 that demands a Windows login (NTLM or Negotiate) per connection.

Like a corporate proxy: a connection that has not signed in gets ``407`` with
``Proxy-Authenticate: NTLM`` (or ``Negotiate``); the handshake is checked by pyspnego's
acceptor against the accounts in the file ``NTLM_USER_FILE`` names, and from then on the
connection is signed in. Plain http requests (absolute URIs) are forwarded; CONNECT opens a
tunnel to the target (the emulator over real TLS). Every request is recorded with the user
it came from, and any ``Proxy-Authorization: Basic`` is counted (a Windows password must
never be sent in clear to it).
"""

from __future__ import annotations

import http.client
import select
import socket
from dataclasses import dataclass
from typing import Any, List, Optional
from urllib.parse import urlsplit

from tests.windows_login import LoopbackServer, WindowsHandler

_FORWARDED = ("Content-Type", "Referer", "X-Esri-Authorization", "User-Agent", "Authorization")


@dataclass
class Seen:
    """One request the proxy received: method, target, and the signed-in user (None: not)."""

    method: str
    target: str
    user: Optional[str]


class WindowsProxy(LoopbackServer):
    """The proxy: ``scheme`` is what its 407 offers (``NTLM`` or ``Negotiate``)."""

    def __init__(self, scheme: str = "NTLM", closes_when_asking: bool = False) -> None:
        self.scheme = scheme
        self.closes_when_asking = closes_when_asking
        self.basic_headers = 0
        super().__init__(_handler(self))
        self.url = f"http://127.0.0.1:{self.port}"

    def users(self) -> List[Optional[str]]:
        """The user of every request that was passed on (signed in)."""
        return [s.user for s in self.seen if s.user is not None]


def _handler(proxy: WindowsProxy) -> Any:
    class Handler(WindowsHandler):
        """One client connection to the proxy: signed in once, then forwarded or tunnelled."""

        owner = proxy
        status = 407
        asks = "Proxy-Authenticate"
        answers = "Proxy-Authorization"
        offers = (proxy.scheme,)
        closes_when_asking = proxy.closes_when_asking

        def _handle(self) -> None:
            body = self.read_body()
            user = self.windows_user()
            proxy.record(Seen(self.command, self.path, user))
            if user is None:
                return
            if self.command == "CONNECT":
                self._tunnel()
            else:
                self._forward(body)

        do_GET = do_POST = do_CONNECT = _handle

        def answered(self, scheme: str) -> None:
            """Count every Basic answer: a Windows password must never come as Basic."""
            if scheme == "basic":
                proxy.count("basic_headers")

        def _forward(self, body: bytes) -> None:
            target = urlsplit(self.path)
            backend = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
            headers = {k: v for k in _FORWARDED if (v := self.headers.get(k))}
            path = target.path + (f"?{target.query}" if target.query else "")
            backend.request(self.command, path, body=body or None, headers=headers)
            names = ("Content-Type", "Location", "WWW-Authenticate", "Proxy-Authenticate")
            self.relay(backend.getresponse(), names)
            backend.close()

        def _tunnel(self) -> None:
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            _relay(self.connection, upstream)
            upstream.close()
            self.close_connection = True

    return Handler


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes (or 30 s of silence)."""
    ends = {client: upstream, upstream: client}
    while True:
        readable, _, _ = select.select(list(ends), [], [], 30)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
                if not data:
                    return
                ends[sock].sendall(data)
            except OSError:
                return
