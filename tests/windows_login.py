"""What the Windows sign-in test servers share: a loopback server that records, and a request
handler that signs a connection in with NTLM/Negotiate through pyspnego's acceptor.

The acceptor checks the handshake against the accounts in the file ``NTLM_USER_FILE`` names.
Used by the web tier in front of the emulator (401, tests/webtier_server.py) and by the proxy
(407, tests/windows_proxy.py).
"""

from __future__ import annotations

import base64
import http.client
import http.server
import ssl
import threading
from typing import Any, List, Optional, Sequence


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 serving ``handler``; keeps what it ``seen``."""

    def __init__(self, handler: Any, tls: Optional[ssl.SSLContext] = None) -> None:
        self.seen: List[Any] = []
        self.handshakes = 0
        self._lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def record(self, seen: Any) -> None:
        """Keep one request's record (handler threads call this)."""
        with self._lock:
            self.seen.append(seen)

    def count(self, name: str) -> None:
        """Add one to the counter attribute ``name`` (handler threads call this)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()


class WindowsHandler(http.server.BaseHTTPRequestHandler):
    """One connection: NTLM signs in the connection, so the user is kept per handler.

    A subclass says where: ``owner`` (its LoopbackServer), the challenge status and headers
    (401 ``WWW-Authenticate``/``Authorization``, or 407 ``Proxy-...``) and the schemes offered.
    """

    protocol_version = "HTTP/1.1"
    owner: LoopbackServer
    status = 401
    asks = "WWW-Authenticate"
    answers = "Authorization"
    offers: Sequence[str] = ("Negotiate", "NTLM")
    closes_when_asking = False
    """Close the connection after the first, anonymous challenge (Squid's NTLM keep_alive off)."""
    user: Optional[str] = None
    acceptor: Any = None
    backend_date: Optional[str] = None

    def read_body(self) -> bytes:
        """The request's body (by its Content-Length)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answered(self, scheme: str) -> None:
        """Hook: the client answered with ``scheme`` (before it is checked)."""

    def windows_user(self) -> Optional[str]:
        """The connection's Windows user, or None after answering with the next challenge."""
        if self.user is not None:
            return self.user
        scheme, _, data = (self.headers.get(self.answers) or "").partition(" ")
        self.answered(scheme.lower())
        if scheme.lower() not in [s.lower() for s in self.offers] or not data:
            self.challenge(list(self.offers))
            return None
        import spnego
        from spnego.exceptions import SpnegoError

        if self.acceptor is None:
            self.acceptor = spnego.server(protocol=scheme.lower())
        try:
            out = self.acceptor.step(base64.b64decode(data))
        except SpnegoError:
            self.acceptor = None
            self.challenge(list(self.offers))
            return None
        if not self.acceptor.complete:
            self.challenge([f"{scheme} {base64.b64encode(out or b'').decode()}"])
            return None
        self.owner.count("handshakes")
        self.user = str(self.acceptor.client_principal)
        return self.user

    def challenge(self, values: List[str]) -> None:
        """Answer with the challenge status, offering ``values``."""
        payload = f"{self.status} sign in with Windows".encode()
        self.send_response(self.status)
        for value in values:
            self.send_header(self.asks, value)
        if self.closes_when_asking and not self.headers.get(self.answers):
            self.send_header("Connection", "close")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def relay(self, reply: http.client.HTTPResponse, names: Sequence[str]) -> None:
        """Pass the backend's ``reply`` on: its status, the headers ``names``, its body."""
        payload = reply.read()
        self.backend_date = reply.getheader("Date")
        self.send_response(reply.status)
        for name in names:
            if reply.getheader(name):
                self.send_header(name, str(reply.getheader(name)))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def date_time_string(self, timestamp: Optional[float] = None) -> str:
        """The emulator's Date (its clock is the test's), not this machine's."""
        return self.backend_date or super().date_time_string(timestamp)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""
        return
