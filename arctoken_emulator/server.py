"""HTTP and TLS plumbing: one threaded loopback server per emulated origin."""

from __future__ import annotations

import http
import json
import socket
import socketserver
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

from .envelopes import error, not_found
from .faults import FaultBook
from .records import HeaderDict, RequestRecord, Response
from .state import State

Dispatch = Callable[[RequestRecord], Response]
"""Turns one recorded request into its reply."""
HANDSHAKE_SECONDS = 5.0
"""How long a TLS handshake may take before the connection is dropped."""
IDLE_SECONDS = 60.0
"""How long an idle keep-alive connection stays open."""
_PARTIAL_HEAD = b"HTTP/1.1 20"
"""Cut inside the status line: a client fails whether it sees the reset or a plain EOF."""


def _no_route(req: RequestRecord) -> Response:
    return not_found()


class OriginServer(ThreadingHTTPServer):
    """A threaded HTTP(S) server on 127.0.0.1 (port 0: the OS chooses); prints nothing."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        origin: str,
        state: State,
        faults: FaultBook,
        context: Optional[ssl.SSLContext],
        port: int = 0,
    ) -> None:
        self.origin = origin
        self.state = state
        self.faults = faults
        self.ssl_context = context
        self.scheme = "https" if context is not None else "http"
        self.dispatch: Dispatch = _no_route
        self.stopping = threading.Event()
        self._active: Dict[_Handler, threading.Thread] = {}
        self._active_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup http.server would do."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.socket.getsockname()[1])

    @property
    def root(self) -> str:
        """``http://127.0.0.1:<port>`` (or https)."""
        return f"{self.scheme}://127.0.0.1:{self.server_port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay silent: a client that hangs up or rejects the certificate is not news."""

    def track(self, handler: _Handler) -> None:
        """Remember an open connection so :meth:`close_connections` can end it."""
        with self._active_lock:
            self._active[handler] = threading.current_thread()

    def untrack(self, handler: _Handler) -> None:
        """Forget a finished connection."""
        with self._active_lock:
            self._active.pop(handler, None)

    def close_connections(self) -> List[threading.Thread]:
        """Shut down every open connection so its thread ends now; return those threads."""
        self.stopping.set()
        with self._active_lock:
            active = list(self._active.items())
        for handler, _ in active:
            handler.abort()
        return [thread for _, thread in active]


class _Handler(BaseHTTPRequestHandler):
    """One connection: parse, record, maybe fault, dispatch, reply in a single send."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    plain_on_tls = False
    """True for a plain-HTTP request that reached an https origin."""
    disable_nagle_algorithm = True
    server: OriginServer

    def setup(self) -> None:
        """Register the connection and, for https, do the TLS handshake in this thread."""
        self.server.track(self)
        try:
            context = self.server.ssl_context
            self.plain_on_tls = context is not None and not _starts_tls(self.request)
            if context is not None and not self.plain_on_tls:
                self.request.settimeout(HANDSHAKE_SECONDS)
                self.request = context.wrap_socket(
                    self.request, server_side=True, do_handshake_on_connect=False
                )
                self.request.do_handshake()
            super().setup()
        except BaseException:
            self.server.untrack(self)
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()
            raise

    def finish(self) -> None:
        """Close the connection (the TLS socket too) and forget it."""
        try:
            super().finish()
        finally:
            self.server.untrack(self)
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()

    def abort(self) -> None:
        """Shut the socket down from another thread, waking a blocked read."""
        try:
            socket.socket.shutdown(self.request, socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """The emulator prints nothing."""

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def _serve(self) -> None:
        if self.plain_on_tls:  # http:// to an https origin: redirect, as real sites do
            self._read_body()
            self.close_connection = True
            location = f"{self.server.root}{self.path}"
            self._write(Response(301, b"", "text/plain", {"Location": location}))
            return
        record = self._record(self._read_body())
        self.server.state.log(record)
        fault = self.server.faults.take(record.path)
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        if fault is not None and fault.kind == "delay":
            self.server.stopping.wait(fault.seconds)
        reply = fault.response() if fault is not None else None
        if reply is None:
            reply = self._dispatch(record)
        record.answered(reply)
        self._write(reply)

    def _dispatch(self, record: RequestRecord) -> Response:
        try:
            return self.server.dispatch(record)
        except Exception:  # noqa: BLE001 - a bug in a route must still answer, as a 500
            reply = error(500, "Internal emulator error")
            reply.status = 500
            return reply

    def _record(self, body: bytes) -> RequestRecord:
        url = urlsplit(self.path)
        headers = HeaderDict(self.headers.items())
        return RequestRecord(
            origin=self.server.origin,
            method=self.command,
            path=url.path,
            query=_flat(parse_qs(url.query, keep_blank_values=True)),
            form=_parse_body(body, headers.get("Content-Type", "")),
            headers=headers,
            scheme=self.server.scheme,
            time=self.server.state.clock(),
            client_user=_certificate_user(self.request),
        )

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: List[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        return b"".join(chunks)

    def _write(self, reply: Response) -> None:
        lines = [
            f"HTTP/1.1 {reply.status} {_reason(reply.status)}",
            f"Date: {self.server.state.http_date()}",
            "Server: arctoken-emulator",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
        ]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + reply.body)

    def _reset(self) -> None:
        """Send the start of a status line, then abort the connection with a TCP reset."""
        self.close_connection = True
        try:
            self.wfile.write(_PARTIAL_HEAD)
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        self.rfile.close()
        self.connection.close()


def _starts_tls(sock: socket.socket) -> bool:
    """Peek at the first byte: a TLS handshake record starts with 0x16."""
    sock.settimeout(HANDSHAKE_SECONDS)
    try:
        first = sock.recv(1, socket.MSG_PEEK)
    except OSError:
        return True  # let the handshake fail in the usual way
    return first in (b"\x16", b"")


def _certificate_user(sock: object) -> Optional[str]:
    """The commonName of a verified client certificate, if the connection presented one."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    try:
        cert = sock.getpeercert()
    except (ValueError, OSError):
        return None
    subject: Any = (cert or {}).get("subject", ())
    for rdn in subject:
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _flat(values: Dict[str, List[str]]) -> Dict[str, str]:
    return {name: items[-1] for name, items in values.items()}


def _parse_body(body: bytes, content_type: str) -> Dict[str, str]:
    if not body:
        return {}
    text = body.decode("utf-8", "replace")
    if "json" in content_type.lower():
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return _flat(parse_qs(text, keep_blank_values=True))
