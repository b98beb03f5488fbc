"""PKI: a client certificate (PEM or PKCS#12) opens a web tier that requires one, over real TLS.

The front server (tests/webtier_server.py) requires a certificate from the test's client CA on
every connection and forwards to the emulator's portal; certificates are made by trustme.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ConfigError, TLSError
from arctoken_core.transport.failures import call
from arctoken_core.transport.session import make_session
from arctoken_core.transport.settings import HttpSettings
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, LIFETIME
from tests.support import TLSFiles
from tests.webtier_server import WebTier, pki_front

PFX_PASSWORD = "pfx-Pa55word!"


@pytest.fixture
def client_ca() -> trustme.CA:
    """The CA the web tier trusts for client certificates."""
    return trustme.CA()


@pytest.fixture
def front(emu: Emulator, tls: TLSFiles, client_ca: trustme.CA) -> Iterator[WebTier]:
    """A PKI web tier for the emulator's portal: the certificate of 'bob' is alice's account."""
    server = pki_front(emu.portal_url, str(tls.cert_file), client_ca.cert_pem.bytes())
    yield server
    server.stop()


def _pem_files(ca: trustme.CA, folder: Path, name: str = "bob") -> tuple[Path, Path]:
    leaf = ca.issue_cert(f"{name}@example.com", common_name=name)
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    for blob in leaf.cert_chain_pems:
        blob.write_to_path(str(cert), append=True)
    leaf.private_key_pem.write_to_path(str(key))
    return cert, key


def _pfx(ca: trustme.CA, folder: Path, password: bytes = PFX_PASSWORD.encode()) -> Path:
    leaf = ca.issue_cert("bob@example.com", common_name="bob")
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    data = pkcs12.serialize_key_and_certificates(
        b"bob",
        key,  # type: ignore[arg-type]
        cert,
        None,
        serialization.BestAvailableEncryption(password),
    )
    path = folder / "bob.pfx"
    path.write_bytes(data)
    return path


def _pki(front: WebTier, tls: TLSFiles, clock: ManualClock, **extra: Any) -> Connection:
    return Connection(
        kind="pki", url=front.url("/portal"), ca_bundle=str(tls.ca_file), clock=clock, **extra
    )


def _keeps_fresh(conn: Connection, front: WebTier, clock: ManualClock) -> None:
    """Tokens over four lifetimes, each one opening the portal; every request authenticated."""
    seen = set()
    for _ in range(4):
        seen.add(conn.token())
        me = conn.request_json("GET", front.url("/portal/sharing/rest/portals/self"))
        assert me["user"]["username"] == ALICE
        clock.advance(LIFETIME)
    assert len(seen) == 4 and conn.refreshes == 3
    assert front.seen and all(s.user == "bob" for s in front.seen)
    assert not any(s.sent_credentials for s in front.seen), "a password was posted"


def test_a_pem_certificate_signs_in_and_keeps_tokens_fresh(
    front: WebTier, tls: TLSFiles, client_ca: trustme.CA, clock: ManualClock, tmp_path: Path
) -> None:
    cert, key = _pem_files(client_ca, tmp_path)
    conn = _pki(front, tls, clock, cert_file=str(cert), key_file=str(key))
    _keeps_fresh(conn, front, clock)


def test_a_pkcs12_file_signs_in_and_leaves_no_key_file_behind(
    front: WebTier,
    tls: TLSFiles,
    client_ca: trustme.CA,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    pfx = _pfx(client_ca, tmp_path)
    conn = _pki(front, tls, clock, cert_file=str(pfx), cert_password=PFX_PASSWORD)
    assert list(scratch.iterdir()) == [], "the decrypted key stayed on disk"
    _keeps_fresh(conn, front, clock)
    assert PFX_PASSWORD not in repr(conn) + repr(conn.http)


def test_a_wrong_pkcs12_password_names_the_field(
    tls: TLSFiles, client_ca: trustme.CA, tmp_path: Path
) -> None:
    pfx = _pfx(client_ca, tmp_path)
    with pytest.raises(ConfigError) as err:
        Connection(kind="pki", url="https://127.0.0.1:1/portal", cert_file=str(pfx),
                   cert_password="not-the-password")  # fmt: skip
    assert err.value.field == "cert_password"


def test_an_encrypted_pem_key_without_its_password_is_a_clear_error_not_a_prompt(
    client_ca: trustme.CA, tmp_path: Path
) -> None:
    cert, key = _pem_files(client_ca, tmp_path)
    plain = serialization.load_pem_private_key(key.read_bytes(), None)
    key.write_bytes(
        plain.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key-pass"),
        )
    )
    url = "https://127.0.0.1:1/portal"
    with pytest.raises(ConfigError) as err:
        Connection(kind="pki", url=url, cert_file=str(cert), key_file=str(key))
    assert err.value.field == "cert_password"
    conn = Connection(
        kind="pki", url=url, cert_file=str(cert), key_file=str(key), cert_password="key-pass"
    )
    assert conn.http.ssl_context is not None


def test_a_key_of_another_certificate_names_the_key_file(
    client_ca: trustme.CA, tmp_path: Path
) -> None:
    cert, _ = _pem_files(client_ca, tmp_path, "bob")
    _, other_key = _pem_files(client_ca, tmp_path, "eve")
    with pytest.raises(ConfigError) as err:
        Connection(kind="pki", url="https://127.0.0.1:1/portal", cert_file=str(cert),
                   key_file=str(other_key))  # fmt: skip
    assert err.value.field == "key_file"


def test_pkcs12_without_cryptography_names_the_package(
    client_ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pfx = _pfx(client_ca, tmp_path)
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.serialization", None)
    with pytest.raises(ConfigError) as err:
        Connection(kind="pki", url="https://127.0.0.1:1/portal", cert_file=str(pfx),
                   cert_password=PFX_PASSWORD)  # fmt: skip
    assert err.value.field == "cert_file"
    assert "pip install cryptography" in str(err.value)


def test_a_certificate_the_web_tier_does_not_trust_gets_no_token(
    front: WebTier, tls: TLSFiles, clock: ManualClock, tmp_path: Path
) -> None:
    cert, key = _pem_files(trustme.CA(), tmp_path, "mallory")
    conn = _pki(front, tls, clock, cert_file=str(cert), key_file=str(key), retries=0)
    with pytest.raises(TLSError) as err:
        conn.token()
    assert not any(s.user for s in front.seen)
    _says_a_client_certificate_is_wanted(str(err.value))


def test_without_a_certificate_the_web_tier_lets_nothing_through(
    front: WebTier, tls: TLSFiles, clock: ManualClock
) -> None:
    conn = Connection(kind="portal", url=front.url("/portal"), username=ALICE,
                      password=ALICE_PASSWORD, ca_bundle=str(tls.ca_file), clock=clock,
                      retries=0)  # fmt: skip
    with pytest.raises(TLSError) as err:
        conn.token()
    assert front.seen == []
    _says_a_client_certificate_is_wanted(str(err.value))


def test_a_get_without_a_certificate_names_the_servers_alert(front: WebTier, tls: TLSFiles) -> None:
    # TLS 1.3: the server's "certificate required" alert usually arrives first; on a busy
    # machine the connection may be found closed before it is read (then: "without a word")
    session = make_session(HttpSettings(ca_bundle=str(tls.ca_file), retries=0))
    with pytest.raises(TLSError) as err:
        call(session, "GET", front.url("/portal/sharing/rest/info"), what="info")
    _says_a_client_certificate_is_wanted(str(err.value))
    assert "none was sent" in str(err.value) or "without a word" in str(err.value)


def _says_a_client_certificate_is_wanted(message: str) -> None:
    """Not the misleading "the server's certificate could not be verified"."""
    assert "client certificate" in message and "cert_file" in message
    assert "Client Certificate File" in message
    assert "could not be verified" not in message and "\n" not in message
