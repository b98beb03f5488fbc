"""The operating system's certificate store (truststore) is trusted; a CA bundle still wins.

On Linux truststore asks OpenSSL for its default store, which ``SSL_CERT_FILE`` points at:
setting it to the test's CA proves the system store is used, since neither requests' own
bundle (certifi) nor anything else the Connection is given knows that CA.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import TLSError
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.support import TLSFiles


@pytest.fixture
def tls_emu(tls: TLSFiles, clock: ManualClock) -> Iterator[Emulator]:
    """The emulator over https, its certificate from the test's CA."""
    with Emulator(users={ALICE: ALICE_PASSWORD}, clock=clock, certfile=str(tls.cert_file)) as emu:
        yield emu


@pytest.fixture
def system_store_is_the_test_ca(tls: TLSFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operating system's store (OpenSSL's default) holds the test CA and nothing else."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def _portal(emu: Emulator, clock: ManualClock, **extra: Any) -> Connection:
    return Connection(kind="portal", url=emu.portal_url, username=ALICE,
                      password=ALICE_PASSWORD, clock=clock, retries=0, **extra)  # fmt: skip


@pytest.mark.usefixtures("system_store_is_the_test_ca")
def test_a_ca_only_the_system_store_knows_is_trusted(tls_emu: Emulator, clock: ManualClock) -> None:
    assert _portal(tls_emu, clock).token()


@pytest.mark.usefixtures("system_store_is_the_test_ca")
def test_without_truststore_requests_own_bundle_is_used_and_refuses(
    tls_emu: Emulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "truststore", None)  # as on ArcGIS Pro 3.0-3.2
    with pytest.raises(TLSError):
        _portal(tls_emu, clock).token()


@pytest.mark.usefixtures("system_store_is_the_test_ca")
def test_an_explicit_ca_bundle_wins_over_the_system_store(
    tls_emu: Emulator, tls: TLSFiles, clock: ManualClock
) -> None:
    conn = _portal(tls_emu, clock, ca_bundle=str(tls.other_ca_file))
    assert conn.http.ssl_context is None
    with pytest.raises(TLSError):
        conn.token()


def test_verify_false_still_connects_with_truststore_installed(
    tls_emu: Emulator, clock: ManualClock
) -> None:
    import truststore  # noqa: F401 - the test is about it being present

    assert _portal(tls_emu, clock, verify=False).token()
