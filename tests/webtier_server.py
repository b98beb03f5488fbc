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

import http.client
import ssl
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.windows_login import LoopbackServer, WindowsHandler

Account = Tuple[str, str]
_FORWARDED = ("Content-Type", "Referer", "X-Esri-Authorization", "User-Agent")


@dataclass
class Seen:
    """One request the front received: who it was (None: not authenticated) and what."""

    method: str
    path: str
    user: Optional[str]
    sent_credentials: bool = False


class WebTier(LoopbackServer):
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
        super().__init__(_handler(self), tls)
        self.root = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The front's URL for a path of the backend (``/portal`` for the portal)."""
        return self.root + path


def _handler(front: WebTier) -> Any:
    class Handler(WindowsHandler):
        """One connection to the front: a certificate or a Windows login signs it in."""

        owner = front

        def _handle(self) -> None:
            body = self.read_body()
            user = self.windows_user() if front.windows else self._certificate_user()
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

        def _forward(self, body: bytes) -> None:
            backend = http.client.HTTPConnection(
                front.backend.hostname or "127.0.0.1", front.backend.port, timeout=30
            )
            headers = {k: v for k in _FORWARDED if (v := self.headers.get(k))}
            backend.request(self.command, self.path, body=body or None, headers=headers)
            self.relay(backend.getresponse(), ("Content-Type",))
            backend.close()

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


WINDOWS_USER = "CORP\\bob"
WINDOWS_PASSWORD = "Windows-Pa55!"


def pki_front(backend: str, server_cert: str, client_ca_pem: bytes) -> WebTier:
    """A PKI web tier for ``backend`` (the emulator's portal): bob's certificate is alice."""
    from tests.conftest import ALICE, ALICE_PASSWORD

    context = client_cert_context(server_cert, client_ca_pem)
    return WebTier(backend, {"bob": (ALICE, ALICE_PASSWORD)}, tls=context)


def iwa_front(backend: str, users_file: Any, monkeypatch: Any) -> WebTier:
    """An IWA web tier for ``backend``: the Windows account CORP\\bob (written to
    ``users_file``, pyspnego's ``NTLM_USER_FILE``, for acceptor and clients) is alice."""
    from tests.conftest import ALICE, ALICE_PASSWORD

    users_file.write_text(f"CORP:bob:{WINDOWS_PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users_file))
    return WebTier(backend, {WINDOWS_USER: (ALICE, ALICE_PASSWORD)}, windows=True)
