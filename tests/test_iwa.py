"""Integrated Windows Authentication: a real NTLM handshake with pyspnego's acceptor on loopback.

The front server (tests/webtier_server.py) answers every unauthenticated connection with
``401 WWW-Authenticate: Negotiate`` / ``NTLM`` and checks the handshake against the accounts in
``NTLM_USER_FILE``; only then does it forward to the emulator's portal.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import AuthenticationError, ConfigError
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, LIFETIME
from tests.webtier_server import WINDOWS_PASSWORD, WINDOWS_USER, WebTier, iwa_front


@pytest.fixture
def front(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebTier]:
    """An IWA web tier for the emulator's portal: CORP\\bob is alice's portal account."""
    server = iwa_front(emu.portal_url, tmp_path / "ntlm-users", monkeypatch)
    yield server
    server.stop()


def _iwa(front: WebTier, clock: ManualClock, password: str = WINDOWS_PASSWORD) -> Connection:
    return Connection(kind="iwa", url=front.url("/portal"), username=WINDOWS_USER,
                      password=password, clock=clock)  # fmt: skip


def test_a_windows_login_signs_in_and_keeps_tokens_fresh(
    front: WebTier, clock: ManualClock
) -> None:
    conn = _iwa(front, clock)
    seen = set()
    for _ in range(4):
        seen.add(conn.token())
        me = conn.request_json("GET", front.url("/portal/sharing/rest/portals/self"))
        assert me["user"]["username"] == ALICE
        clock.advance(LIFETIME)
    assert len(seen) == 4 and conn.refreshes == 3
    assert front.handshakes >= 1
    forwarded = [s for s in front.seen if s.user is not None]
    assert forwarded and all(s.user == WINDOWS_USER for s in forwarded)
    assert not any(s.sent_credentials for s in front.seen), "a password was posted"


def test_a_wrong_windows_password_is_refused_once_and_not_retried(
    front: WebTier, clock: ManualClock
) -> None:
    with pytest.raises(AuthenticationError) as err:
        _iwa(front, clock, password="wrong").token()
    assert "Not retried" in str(err.value) and "\n" not in str(err.value)
    assert front.handshakes == 0
    assert [s.path for s in front.seen].count("/portal/sharing/rest/generateToken") <= 3


def test_a_windows_login_is_not_offered_to_another_host(
    front: WebTier, emu: Emulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = WebTier(emu.portal_url, {WINDOWS_USER: (ALICE, ALICE_PASSWORD)}, windows=True)
    try:
        conn = _iwa(front, clock)
        reply = conn.session().get(f"http://localhost:{other.port}/portal/sharing/rest/info")
        assert reply.status_code == 401
        assert other.handshakes == 0 and all(s.user is None for s in other.seen)
    finally:
        other.stop()


def test_without_pyspnego_one_clear_error_names_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "spnego", None)
    with pytest.raises(ConfigError) as err:
        Connection(kind="iwa", url="https://gis.example.com/portal")
    assert "pip install pyspnego" in str(err.value) and "\n" not in str(err.value)


def test_the_current_logon_signs_in_with_no_credentials_in_the_connection(
    front: WebTier, clock: ManualClock
) -> None:
    # pyspnego's current logon: SSPI on Windows, a Kerberos ticket, or (here) the credential
    # NTLM_USER_FILE stores for this user; the Connection itself holds no password at all
    conn = Connection(kind="iwa", url=front.url("/portal"), clock=clock)
    assert conn.token()
    assert conn.http.web_auth is not None and "current Windows logon" in repr(conn.http.web_auth)
    assert {s.user for s in front.seen if s.user} == {WINDOWS_USER}


def test_a_challenge_pyspnego_cannot_read_is_one_clear_error() -> None:
    """A garbled NTLM challenge ends as the typed refusal, not pyspnego's struct.error."""
    from tests.scripted import ScriptedServer

    garbled = (401, {"WWW-Authenticate": "NTLM Z2FyYmFnZQ=="}, b"")
    with ScriptedServer(default=garbled) as server:
        conn = Connection(kind="iwa", url=server.url + "/portal", username=WINDOWS_USER,
                          password=WINDOWS_PASSWORD)  # fmt: skip
        with pytest.raises(AuthenticationError) as err:
            conn.token()
    assert "challenge could not be read" in str(err.value) and "\n" not in str(err.value)
    assert WINDOWS_PASSWORD not in str(err.value)
    assert [r.headers.get("Authorization", "").split(" ")[0] for r in server.received][-1] == "NTLM"
