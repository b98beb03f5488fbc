"""Real servers for tests: a proxy process, a redirecting server, a recording server, TLS.

Everything listens on 127.0.0.1 only and stops at the end of its test.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import trustme

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts connections on ``port`` (or fail the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class ProxyProcess:
    """The proxy.py server in its own process, with optional Basic proxy authentication."""

    def __init__(self, tmp: Path, credentials: Optional[Tuple[str, str]] = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"proxy-{self.port}.log"
        args = [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--num-workers",
            "1",
            "--num-acceptors",
            "1",
            "--log-file",
            str(self.log_path),
        ]
        args += ["--plugins", "tests.proxy_plugin.RecordRequests"]
        if credentials:
            args += ["--basic-auth", f"{credentials[0]}:{credentials[1]}"]
        self.requests_path = tmp / f"proxy-{self.port}.requests"
        env = dict(os.environ, ARCTOKEN_TEST_PROXY_LOG=str(self.requests_path))
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(tmp), env=env
        )
        wait_for_port(self.port)

    def access_log(self) -> List[str]:
        """One line per request the proxy forwarded: ``METHOD host:port path``.

        For https that is the CONNECT alone: what flows inside the tunnel is encrypted.
        """
        if not self.requests_path.exists():
            return []
        return self.requests_path.read_text(errors="replace").splitlines()

    def stop(self) -> None:
        """Stop the proxy process."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Recorded:
    """One request a :class:`RecordingServer` received."""

    def __init__(self, method: str, path: str, headers: Dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


class RecordingServer:
    """An HTTP server that records every request and answers ``{"ok": true}``, or redirects.

    ``redirects`` maps a path to ``(status, location)``.
    """

    def __init__(self) -> None:
        self.received: List[Recorded] = []
        self.redirects: Dict[str, Tuple[int, str]] = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.received.append(
                    Recorded(self.command, self.path, dict(self.headers.items()), body)
                )
                target = owner.redirects.get(self.path.split("?")[0])
                if target:
                    self.send_response(target[0])
                    self.send_header("Location", target[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()


class TLSFiles:
    """A throwaway CA and a certificate for 127.0.0.1/localhost, written to files."""

    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = folder / "ca.pem"
        self.cert_file = folder / "server.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        cert.private_key_and_cert_chain_pem.write_to_path(str(self.cert_file))
        other = trustme.CA()
        self.other_ca_file = folder / "other-ca.pem"
        other.cert_pem.write_to_path(str(self.other_ca_file))


def free_port_range(count: int, attempts: int = 50) -> int:
    """The first of ``count`` consecutive ports on 127.0.0.1 that were all free a moment ago."""
    for _ in range(attempts):
        base = free_port()
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports found")
