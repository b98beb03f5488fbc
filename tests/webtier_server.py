"""A web tier in front of the emulator's portal, as ArcGIS Enterprise has with PKI or IWA.

Every request must authenticate at this front server: by a client certificate its TLS
context requires (PKI), or by a real NTLM/Negotiate handshake that pyspnego's acceptor checks
against the ``NTLM_USER_FILE`` accounts (IWA). Only then is it forwarded to the emulator. A
``generateToken`` POST is issued for the authenticated user: the front puts that user's
emulator account into the form, as a web adaptor hands the portal the user it signed in, and
drops whatever credentials the client sent (it records that they came, so tests can see that
none do). Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import ssl
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit

Account = Tuple[str, str]
_FORWARDED = ("Content-Type", "Referer", "X-Esri-Authorization", "User-Agent")


@dataclass
class Seen:
    """One request the front received: who it was (None: not authenticated) and what."""

    method: str
    path: str
    user: Optional[str]
    sent_credentials: bool = False


class WebTier:
    """The front server: ``accounts`` maps an authenticated identity (certificate CN, or
    ``DOMAIN\\user``) to the emulator account it stands for."""

    def __init__(
        self,
        backend: str,
        accounts: Dict[str, Account],
        tls: Optional[ssl.SSLContext] = None,
        windows: bool = False,
    ) -> None:
        self.backend = urlsplit(backend)
        self.accounts = accounts
        self.windows = windows
        self.seen: List[Seen] = []
        self.handshakes = 0
        self._lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.root = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The front's URL for a path of the backend (``/portal`` for the portal)."""
        return self.root + path

    def record(self, seen: Seen) -> None:
        """Keep one request's record (handler threads call this)."""
        with self._lock:
            self.seen.append(seen)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()


def _handler(front: WebTier) -> Any:
    class Handler(http.server.BaseHTTPRequestHandler):
        """One connection: NTLM signs in the connection, so the user is kept per handler."""

        protocol_version = "HTTP/1.1"
        user: Optional[str] = None
        acceptor: Any = None
        backend_date: Optional[str] = None

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            user = self._windows_user() if front.windows else self._certificate_user()
            if user is None:
                front.record(Seen(self.command, self.path, None))
                return
            sent = False
            if self.command == "POST" and self.path.lower().endswith("/generatetoken"):
                body, sent = _as_user(body, front.accounts.get(user))
            front.record(Seen(self.command, self.path, user, sent))
            self._forward(body)

        do_GET = do_POST = _handle

        def _certificate_user(self) -> Optional[str]:
            cert = self.connection.getpeercert()  # type: ignore[attr-defined]
            for rdn in (cert or {}).get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        return str(value)
            return None

        def _windows_user(self) -> Optional[str]:
            if self.user is not None:
                return self.user
            scheme, _, data = (self.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() not in ("ntlm", "negotiate") or not data:
                self._challenge(["Negotiate", "NTLM"])
                return None
            import spnego
            from spnego.exceptions import SpnegoError

            if self.acceptor is None:
                self.acceptor = spnego.server(protocol=scheme.lower())
            try:
                out = self.acceptor.step(base64.b64decode(data))
            except SpnegoError:
                self.acceptor = None
                self._challenge(["Negotiate", "NTLM"])
                return None
            if not self.acceptor.complete:
                self._challenge([f"{scheme} {base64.b64encode(out or b'').decode()}"])
                return None
            with front._lock:
                front.handshakes += 1
            self.user = str(self.acceptor.client_principal)
            return self.user

        def _challenge(self, values: List[str]) -> None:
            payload = b"401 Unauthorized: sign in with Windows"
            self.send_response(401)
            for value in values:
                self.send_header("WWW-Authenticate", value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _forward(self, body: bytes) -> None:
            backend = http.client.HTTPConnection(
                front.backend.hostname or "127.0.0.1", front.backend.port, timeout=30
            )
            headers = {k: v for k in _FORWARDED if (v := self.headers.get(k))}
            backend.request(self.command, self.path, body=body or None, headers=headers)
            reply = backend.getresponse()
            payload = reply.read()
            backend.close()
            self.backend_date = reply.getheader("Date")
            self.send_response(reply.status)
            if reply.getheader("Content-Type"):
                self.send_header("Content-Type", str(reply.getheader("Content-Type")))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def date_time_string(self, timestamp: Optional[float] = None) -> str:
            """The emulator's Date (its clock is the test's), not this machine's."""
            return self.backend_date or super().date_time_string(timestamp)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def _as_user(body: bytes, account: Optional[Account]) -> Tuple[bytes, bool]:
    """The token request's form with the authenticated user's account in it; and whether the
    client itself sent any credentials (it must not)."""
    form = [(k, v) for k, v in parse_qsl(body.decode()) if k not in ("username", "password")]
    sent = len(form) != len(parse_qsl(body.decode()))
    if account is not None:
        form += [("username", account[0]), ("password", account[1])]
    return urlencode(form).encode(), sent


def client_cert_context(server_cert_pem: str, client_ca_pem: bytes) -> ssl.SSLContext:
    """A server context that requires a client certificate issued by ``client_ca_pem``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_cert_pem)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=client_ca_pem.decode())
    return context
