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
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

import trustme

if TYPE_CHECKING:
    import pytest

    from arctoken_core.connection import Connection

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


# -- helpers shared by the reliability and security tests -------------------------------------


def run_cli(args: List[str], stdin: str = "") -> Tuple[int, str, str]:
    """Run ``arctoken`` in-process: (exit status, stdout, stderr)."""
    import contextlib
    import io

    from arctoken_core.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def in_threads(count: int, work: Callable[[], object], timeout: float = 30.0) -> List[object]:
    """Run ``work`` in ``count`` threads released together; each result or raised exception.

    Fails if a thread is still running after ``timeout`` seconds (a deadlock, not a result).
    """
    start = threading.Barrier(count)
    results: List[object] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait()
        try:
            outcome: object = work()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads still running: a deadlock"
    return results


class SleepLog:
    """A fake ``sleep`` for the retrying adapter: records each backoff instead of waiting."""

    def __init__(self) -> None:
        self.delays: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> SleepLog:
        """Make every session a Connection creates sleep through this log."""
        from arctoken_core import connection
        from arctoken_core.transport import session

        real = session.make_session
        monkeypatch.setattr(connection, "make_session", lambda s: real(s, sleep=self))
        return self


def loopback_only_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every name but loopback fail to resolve, so generated input never leaves the host."""
    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.strip("[]").lower() not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def self_signed_cert(folder: Path) -> Path:
    """A self-signed certificate (no CA) for 127.0.0.1, key and certificate in one PEM file."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    path = folder / "self-signed.pem"
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(key_pem + cert.public_bytes(serialization.Encoding.PEM))
    return path


def expired_cert(tls: TLSFiles) -> Path:
    """A certificate from ``tls``'s own (trusted) CA for 127.0.0.1 that expired yesterday."""
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc)
    cert = tls.ca.issue_cert(
        "127.0.0.1",
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )
    path = tls.cert_file.parent / "expired.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(path))
    return path


def connect(kind: str, url: str, clock: Callable[[], float], **extra: Any) -> Connection:
    """A Connection of ``kind`` with the test account (user, app or API key from conftest)."""
    from arctoken_core.connection import Connection
    from tests.conftest import ALICE, ALICE_PASSWORD, API_KEY, APP_ID, APP_SECRET

    credentials: Dict[str, Any] = {
        "app": {"client_id": APP_ID, "client_secret": APP_SECRET},
        "apikey": {"api_key": API_KEY},
    }.get(kind, {"username": ALICE, "password": ALICE_PASSWORD})
    return Connection(kind=kind, url=url, clock=clock, **{**credentials, **extra})


def one_error_line(err: str) -> bool:
    """True when stderr holds exactly one ``arctoken: error:`` line, besides warnings."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("arctoken: error: ")]
    others = [line for line in lines if line not in errors]
    return len(errors) == 1 and all(line.startswith("arctoken: WARNING ") for line in others)
