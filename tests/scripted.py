"""A scripted HTTP(S) server on any loopback address (127.0.0.2 plays the foreign host).

Each route answers with a fixed reply or runs a function that writes its own; every request
is recorded. Everything listens on 127/8 only and stops at the end of its test.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from tests.support import Recorded

Reply = Tuple[int, Dict[str, str], bytes]
Writer = Callable[[http.server.BaseHTTPRequestHandler, Recorded], None]
Route = Union[Reply, Writer]


def json_reply(payload: Any, status: int = 200, **headers: str) -> Reply:
    """A JSON reply for a route."""
    return status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode()


def redirect(location: str, status: int = 302) -> Reply:
    """A redirect reply for a route."""
    return status, {"Location": location}, b""


class ScriptedServer:
    """Serves ``routes`` (path without query -> reply) on ``host``; records every request.

    With ``tls`` (an ``ssl.SSLContext``) a connection that starts with a TLS handshake is
    served over TLS and any other as plain http, on the same port: a downgrade redirect to
    ``http://`` on the same host and port then really reaches it.
    """

    def __init__(
        self,
        routes: Optional[Dict[str, Route]] = None,
        host: str = "127.0.0.1",
        tls: Optional[ssl.SSLContext] = None,
        default: Optional[Route] = None,
    ) -> None:
        self.routes: Dict[str, Route] = dict(routes or {})
        self.default: Route = default or json_reply({"ok": True})
        self.received: List[Recorded] = []
        self.schemes: List[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                self.scheme = "http"
                if tls is not None:
                    first = self.request.recv(1, socket.MSG_PEEK)
                    if first == b"\x16":
                        self.request = tls.wrap_socket(self.request, server_side=True)
                        self.scheme = "https"
                super().setup()

            def _handle(self) -> None:
                seen = Recorded(self.command, self.path, dict(self.headers.items()), self._body())
                owner.received.append(seen)
                owner.schemes.append(self.scheme)
                route = owner.routes.get(self.path.split("?")[0], owner.default)
                if callable(route):
                    route(self, seen)
                    return
                status, headers, payload = route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _body(self) -> bytes:
                if "chunked" not in self.headers.get("Transfer-Encoding", ""):
                    length = int(self.headers.get("Content-Length") or 0)
                    return self.rfile.read(length) if length else b""
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                    if size == 0:
                        return b"".join(parts)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.host = host
        self.url = f"http://{host}:{self.port}"
        self.https_url = f"https://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> List[str]:
        """The paths (without query) of every request received, in order."""
        return [r.path.split("?")[0] for r in self.received]

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
