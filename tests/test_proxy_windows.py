"""NTLM/Negotiate proxy authentication: a real proxy on loopback that demands a Windows login.

The proxy (tests/windows_proxy.py) answers every connection that has not signed in with
``407 Proxy-Authenticate: NTLM`` (or ``Negotiate``) and checks the handshake with pyspnego's
acceptor against the ``NTLM_USER_FILE`` accounts; then it forwards plain http and opens
CONNECT tunnels to the emulator (over real TLS for https).
"""

from __future__ import annotations

import ssl
import sys
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ProxyError
from arctoken_core.secrets import redact
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, LIFETIME, assert_no_secret
from tests.scripted import ScriptedServer
from tests.support import ProxyProcess, TLSFiles
from tests.windows_proxy import WindowsProxy

WINDOWS_USER = "CORP\\bob"
WINDOWS_PASSWORD = "Windows-Pr0xy!"


@pytest.fixture(autouse=True)
def windows_accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CORP\\bob in NTLM_USER_FILE: the proxy's account database, and on Linux pyspnego's
    "current logon" (the credential it finds there when no username is given)."""
    users = tmp_path / "ntlm-users"
    users.write_text(f"CORP:bob:{WINDOWS_PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))


@pytest.fixture
def ntlm_proxy() -> Iterator[WindowsProxy]:
    """A proxy that demands NTLM on every connection."""
    proxy = WindowsProxy("NTLM")
    yield proxy
    proxy.stop()


@pytest.fixture
def tls_emu(tls: TLSFiles, clock: ManualClock) -> Iterator[Emulator]:
    """The emulator over https (a certificate from the test's own CA), 10-minute tokens."""
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        token_lifetime=LIFETIME,
        clock=clock,
        certfile=str(tls.cert_file),
        keyfile=str(tls.cert_file),
    ) as emulator:
        yield emulator


def _through(proxy: Any, url: str, clock: ManualClock, tls: TLSFiles, **extra: Any) -> Connection:
    """A server connection to ``url`` through ``proxy``, trusting the test's CA."""
    return Connection(kind="server", url=url, username=ALICE, password=ALICE_PASSWORD,
                      clock=clock, proxy=proxy.url, ca_bundle=str(tls.ca_file), retries=0,
                      use_system_proxy=False, **extra)  # fmt: skip


def _windows_account() -> Any:
    return {"proxy_username": WINDOWS_USER, "proxy_password": WINDOWS_PASSWORD}


def test_a_token_over_https_through_an_ntlm_proxy_with_a_windows_account(
    ntlm_proxy: WindowsProxy, tls_emu: Emulator, clock: ManualClock, tls: TLSFiles
) -> None:
    conn = _through(ntlm_proxy, tls_emu.server_url, clock, tls, **_windows_account())
    assert conn.token()
    assert conn.session().get(tls_emu.service_url, params={"f": "json"}).json()["user"] == ALICE
    connects = [s for s in ntlm_proxy.seen if s.method == "CONNECT"]
    assert connects and {s.user for s in connects if s.user} == {WINDOWS_USER}
    assert ntlm_proxy.handshakes >= 1
    assert ntlm_proxy.basic_headers == 0, "the Windows password went to the proxy as Basic"


def test_plain_http_through_an_ntlm_proxy_signs_in_the_connection_once(
    ntlm_proxy: WindowsProxy, emu: Emulator, clock: ManualClock, tls: TLSFiles
) -> None:
    conn = _through(ntlm_proxy, emu.server_url, clock, tls, **_windows_account())
    assert conn.token()  # to this machine in clear: direct; the discovery goes through it
    session = conn.http_session()
    for _ in range(3):
        reply = session.get(f"{emu.server_url}/rest/info", params={"f": "json"})
        assert reply.status_code == 200 and "currentVersion" in reply.json()
    forwarded = [s for s in ntlm_proxy.seen if s.user is not None]
    assert len(forwarded) >= 3 and {s.user for s in forwarded} == {WINDOWS_USER}
    assert all(s.target.startswith("http://127.0.0.1") for s in ntlm_proxy.seen)
    assert ntlm_proxy.handshakes == 1, "NTLM signs in the connection: one handshake, reused"
    assert ntlm_proxy.basic_headers == 0


@pytest.mark.parametrize("scheme", ["NTLM", "Negotiate"])
def test_the_current_logon_signs_in_to_the_proxy_with_no_proxy_credentials(
    scheme: str, tls_emu: Emulator, clock: ManualClock, tls: TLSFiles
) -> None:
    # pyspnego's current logon: SSPI on Windows, a Kerberos ticket, or (here) the credential
    # NTLM_USER_FILE holds; the Connection itself holds no proxy username or password
    proxy = WindowsProxy(scheme)
    try:
        conn = _through(proxy, tls_emu.server_url, clock, tls)
        assert conn.http.proxy_username is None and conn.http.proxy_password is None
        assert conn.token()
        assert set(proxy.users()) == {WINDOWS_USER} and proxy.handshakes >= 1
    finally:
        proxy.stop()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_wrong_windows_password_is_a_proxy_error_that_shows_no_secret(
    scheme: str,
    ntlm_proxy: WindowsProxy,
    emu: Emulator,
    tls_emu: Emulator,
    clock: ManualClock,
    tls: TLSFiles,
) -> None:
    url = emu.server_url if scheme == "http" else tls_emu.server_url
    wrong = "Not-The-Windows-Pa55"
    conn = _through(ntlm_proxy, url, clock, tls, proxy_username=WINDOWS_USER, proxy_password=wrong)
    with pytest.raises(ProxyError) as err:
        conn.token()
    text = str(err.value)
    assert "the proxy refused the Windows login" in text and WINDOWS_USER in text
    assert "\n" not in text and wrong not in text and WINDOWS_PASSWORD not in text
    assert_no_secret(text)
    assert ntlm_proxy.handshakes == 0 and not ntlm_proxy.users()
    assert len(ntlm_proxy.seen) <= 3, "a refused Windows login is not tried again and again"


def test_an_ntlm_proxy_that_never_lets_the_login_through_says_it_refused_it(
    clock: ManualClock, tls: TLSFiles
) -> None:
    reply = (407, {"Proxy-Authenticate": "NTLM"}, b"sign in")
    with ScriptedServer(default=reply) as proxy:
        conn = _through(proxy, "http://127.0.0.1:9/arcgis", clock, tls)
        with pytest.raises(ProxyError) as err:
            conn.token()
        legs = [r.headers.get("Proxy-Authorization", "") for r in proxy.received]
    assert "the proxy refused the Windows login with your Windows logon" in str(err.value)
    assert len(legs) == 2 and legs[1].startswith("NTLM "), "one NTLM leg, then it stops"


def test_without_pyspnego_the_proxy_error_names_the_package(
    ntlm_proxy: WindowsProxy,
    tls_emu: Emulator,
    clock: ManualClock,
    tls: TLSFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "spnego", None)
    conn = _through(ntlm_proxy, tls_emu.server_url, clock, tls, **_windows_account())
    with pytest.raises(ProxyError) as err:
        conn.token()
    text = str(err.value)
    assert "pip install pyspnego" in text and "ArcGIS Pro" in text and "\n" not in text
    assert "NTLM" in text and not ntlm_proxy.users()


def test_a_407_from_a_web_server_never_gets_the_windows_login(
    ntlm_proxy: WindowsProxy, clock: ManualClock, tls: TLSFiles
) -> None:
    reply = (407, {"Proxy-Authenticate": "NTLM"}, b"")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.cert_file))
    with ScriptedServer(default=reply) as direct, ScriptedServer(default=reply, tls=context) as far:
        # no proxy configured: a 407 is the server's own answer, not a proxy's question
        conn = Connection(kind="server", url=direct.url + "/arcgis", username=ALICE,
                          password=ALICE_PASSWORD, clock=clock, use_system_proxy=False)  # fmt: skip
        assert conn.http_session().get(direct.url + "/arcgis/rest/info").status_code == 407
        # through the NTLM proxy: the 407 inside the tunnel comes from the server at its end
        https = far.url.replace("http://", "https://")
        tunnelled = _through(ntlm_proxy, https + "/arcgis", clock, tls, **_windows_account())
        assert tunnelled.http_session().get(https + "/arcgis/rest/info").status_code == 407
    assert direct.received and far.received
    for request in direct.received + far.received:
        assert not any(name.lower() == "proxy-authorization" for name in request.headers)
        assert not any(name.lower() == "authorization" for name in request.headers)
    assert set(ntlm_proxy.users()) == {WINDOWS_USER}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_windows_account_reaches_a_basic_proxy_after_it_asks_for_basic(
    scheme: str,
    emu: Emulator,
    tls_emu: Emulator,
    clock: ManualClock,
    tls: TLSFiles,
    tmp_path: Path,
) -> None:
    # DOMAIN\user is never sent as Basic before the proxy asks for Basic; this proxy closes
    # the connection with its 407 (proxy.py does), so the request is sent once more
    proxy = ProxyProcess(tmp_path, (WINDOWS_USER, WINDOWS_PASSWORD))
    try:
        url = emu.server_url if scheme == "http" else tls_emu.server_url
        conn = _through(proxy, url, clock, tls, **_windows_account())
        assert conn.token()
        assert conn.http_session().get(f"{url}/rest/info", params={"f": "json"}).ok
        assert any("/rest/info" in line or "CONNECT" in line for line in proxy.access_log())
    finally:
        proxy.stop()


def test_the_token_stays_fresh_through_the_ntlm_proxy_for_several_lifetimes(
    ntlm_proxy: WindowsProxy, tls_emu: Emulator, clock: ManualClock, tls: TLSFiles
) -> None:
    conn = _through(ntlm_proxy, tls_emu.server_url, clock, tls, **_windows_account())
    seen = set()
    for _ in range(4):
        seen.add(conn.token())
        reply = conn.session().get(tls_emu.service_url, params={"f": "json"}).json()
        assert reply["user"] == ALICE
        clock.advance(LIFETIME)
    assert len(seen) == 4 and conn.refreshes == 3
    assert set(ntlm_proxy.users()) == {WINDOWS_USER}
    assert ntlm_proxy.basic_headers == 0


def test_a_socks_proxy_is_never_signed_in_to() -> None:
    """Through SOCKS a Proxy-Authorization header or a 407 answer would reach the server."""
    from arctoken_core.transport.session import _http_proxy

    assert _http_proxy("http://proxy:3128") and _http_proxy("https://proxy:3128")
    assert _http_proxy("proxy:3128")  # requests reads a bare host:port as http
    for socks in ("socks5://u:p@proxy:1080", "socks5h://proxy:1080", "SOCKS4://proxy:1080"):
        assert not _http_proxy(socks)


@pytest.mark.parametrize("user", ["CORP\\bob", "bob@corp.example"])
def test_a_windows_account_password_is_not_sent_as_basic_unasked(user: str) -> None:
    from arctoken_core.transport.proxy_auth import ProxyLogon

    logon = ProxyLogon(f"http://{quote(user)}:{quote('S3cret-pw')}@proxy:3128")
    assert logon.preemptive() is None
    plain = ProxyLogon(f"http://bob:{quote('S3cret-pw')}@proxy:3128").preemptive()
    assert plain is not None and plain.startswith("Basic ")
    assert redact(plain) != plain, "the Basic value is masked wherever it is printed"


@pytest.mark.parametrize("account", [True, False], ids=["windows account", "current logon"])
def test_a_proxy_that_closes_after_asking_gets_the_handshake_on_the_next_connection(
    tls_emu: Emulator, clock: ManualClock, tls: TLSFiles, account: bool
) -> None:
    """Squid with NTLM keep_alive off closes the connection after its first 407 to CONNECT."""
    proxy = WindowsProxy("NTLM", closes_when_asking=True)
    try:
        conn = _through(
            proxy, tls_emu.server_url, clock, tls, **(_windows_account() if account else {})
        )
        assert conn.token()
        reply = conn.session().get(tls_emu.service_url, params={"f": "json"})
        assert reply.json()["user"] == ALICE
        connects = [s for s in proxy.seen if s.method == "CONNECT"]
        assert {s.user for s in connects if s.user} == {WINDOWS_USER}
        assert proxy.basic_headers == 0
    finally:
        proxy.stop()
