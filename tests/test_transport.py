"""Proxies (a real proxy process) and TLS (real certificates) for every call, tokens included."""

from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import quote, quote_plus

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ProxyError, TLSError, TransportError
from arctoken_core.secrets import MASK, redact
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, assert_no_secret
from tests.scripted import ScriptedServer
from tests.support import ProxyProcess, TLSFiles, loopback_only_dns


@pytest.fixture
def tls_emu(tls: TLSFiles, clock: ManualClock) -> Iterator[Emulator]:
    """The emulator serving https with a certificate from the test's own CA."""
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        clock=clock,
        certfile=str(tls.cert_file),
        keyfile=str(tls.cert_file),
    ) as emulator:
        yield emulator


def _server(url: str, clock: ManualClock, **extra: Any) -> Connection:
    return Connection(
        kind="server", url=url, username=ALICE, password=ALICE_PASSWORD, clock=clock, **extra
    )


def test_plain_http_goes_through_the_proxy_but_never_a_password_or_token(
    emu: Emulator, clock: ManualClock, proxy: ProxyProcess
) -> None:
    conn = _server(emu.server_url, clock, proxy=proxy.url.replace("http://", ""))
    assert conn.session().get(emu.service_url, params={"f": "json"}).json()["user"] == ALICE
    log = "\n".join(proxy.access_log())
    assert "/arcgis/rest/info" in log  # nothing secret in it: through the proxy
    assert "/arcgis/tokens/generateToken" not in log  # the password in clear: direct
    assert "/Secure/MapServer" not in log  # the token in clear: direct
    assert ALICE_PASSWORD not in proxy.log_path.read_text(errors="replace")


def test_https_goes_through_the_proxy_with_connect(
    tls_emu: Emulator, clock: ManualClock, proxy: ProxyProcess, tls: TLSFiles
) -> None:
    conn = _server(tls_emu.server_url, clock, proxy=proxy.url, ca_bundle=str(tls.ca_file))
    assert conn.session().get(tls_emu.service_url, params={"f": "json"}).json()["user"] == ALICE
    port = tls_emu.server_url.split(":")[2].split("/")[0]
    assert any(line.startswith("CONNECT") and port in line for line in proxy.access_log())
    assert {r.scheme for r in tls_emu.requests} == {"https"}


def test_proxy_credentials_are_sent_and_a_wrong_one_says_so(
    emu: Emulator, clock: ManualClock, auth_proxy: ProxyProcess
) -> None:
    good = _server(
        emu.server_url,
        clock,
        proxy=auth_proxy.url,
        proxy_username="proxyuser",
        proxy_password="proxy-Pa55",
    )
    assert good.token()
    bad = _server(
        emu.server_url,
        clock,
        proxy=auth_proxy.url,
        proxy_username="proxyuser",
        proxy_password="wrong-Pa55",
    )
    with pytest.raises(ProxyError) as err:
        bad.token()
    assert "407" in str(err.value) and "proxy username and password" in str(err.value)
    assert_no_secret(str(err.value))


def test_a_dead_proxy_is_a_clear_proxy_error(emu: Emulator, clock: ManualClock) -> None:
    from tests.support import free_port

    conn = _server(emu.server_url, clock, proxy=f"127.0.0.1:{free_port()}", retries=0)
    with pytest.raises(ProxyError) as err:
        conn.token()
    assert "proxy" in str(err.value)
    assert emu.requests == []


def test_system_proxy_settings_and_no_proxy_are_honoured(
    emu: Emulator, clock: ManualClock, proxy: ProxyProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    assert _server(emu.server_url, clock).token()
    assert any("rest/info" in line for line in proxy.access_log())
    assert not any("generateToken" in line for line in proxy.access_log())
    before = len(proxy.access_log())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _server(emu.server_url, clock).token()
    assert len(proxy.access_log()) == before
    assert _server(emu.server_url, clock, use_system_proxy=False).token()
    assert len(proxy.access_log()) == before


def test_tls_is_verified_by_default(tls_emu: Emulator, clock: ManualClock, tls: TLSFiles) -> None:
    with pytest.raises(TLSError) as err:
        _server(tls_emu.server_url, clock).token()
    assert "CA bundle" in str(err.value)
    with pytest.raises(TLSError):
        _server(tls_emu.server_url, clock, ca_bundle=str(tls.other_ca_file)).token()
    assert tls_emu.token_requests() == []  # no password sent before the certificate checked out
    assert _server(tls_emu.server_url, clock, ca_bundle=str(tls.ca_file)).token()
    assert [r.scheme for r in tls_emu.token_requests()] == ["https"]


def test_https_to_a_plain_http_port_says_so(emu: Emulator, clock: ManualClock) -> None:
    plain = emu.server_url.replace("http://", "https://")
    with pytest.raises(TLSError) as err:
        _server(plain, clock, retries=0).token()
    assert "did not answer in TLS" in str(err.value)


def test_a_proxy_password_outside_latin_1_is_sent_and_never_shown(
    emu: Emulator, clock: ManualClock, auth_proxy: ProxyProcess
) -> None:
    wrong = "pässwörd\\✓€"
    conn = _server(
        emu.server_url,
        clock,
        proxy=auth_proxy.url,
        proxy_username="proxyuser",
        proxy_password=wrong,
    )
    with pytest.raises(ProxyError) as err:  # not a bare UnicodeEncodeError
        conn.token()
    text = str(err.value)
    assert "proxy username and password" in text
    for shown in (wrong, quote(wrong, safe=""), quote_plus(wrong)):
        assert shown not in text and redact(f"x {shown} y") == f"x {MASK} y"


def test_a_407_without_credentials_asks_for_them() -> None:
    with ScriptedServer(default=(407, {"Proxy-Authenticate": 'Basic realm="p"'}, b"")) as proxy:
        conn = _server("http://127.0.0.1:9/arcgis", ManualClock(), proxy=proxy.url, retries=0)
        with pytest.raises(ProxyError) as err:
            conn.token()
    assert "none were given" in str(err.value)


def test_a_proxy_wanting_a_sign_in_we_cannot_give_is_named_for_it() -> None:
    reply = (407, {"Proxy-Authenticate": 'Digest realm="p", nonce="abc"'}, b"")
    with ScriptedServer(default=reply) as proxy:
        conn = _server("http://127.0.0.1:9/arcgis", ManualClock(), proxy=proxy.url, retries=0)
        with pytest.raises(ProxyError) as err:
            conn.token()
    assert "cannot give (digest, HTTP 407)" in str(err.value) and "NTLM" in str(err.value)
    assert "check the proxy username and password" not in str(err.value)


def test_a_dns_failure_is_reported_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    loopback_only_dns(monkeypatch)
    conn = _server("https://no-such-host.example.com/arcgis", ManualClock(), retries=0)
    with pytest.raises(TransportError) as err:
        conn.token()
    assert "could not be resolved (DNS failure)" in str(err.value)
    assert "broke" not in str(err.value)
