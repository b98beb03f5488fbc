"""Where the token may go: trusted hosts only, never across a redirect to another host."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import InsecureTransportError
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.support import RecordingServer


def _portal(emu: Emulator, clock: ManualClock, **extra: Any) -> Connection:
    return Connection(
        kind="portal",
        url=emu.portal_url,
        username=ALICE,
        password=ALICE_PASSWORD,
        clock=clock,
        **extra,
    )


def _carries_token(seen: Any, token: str) -> bool:
    headers = seen.headers
    body = getattr(seen, "body", b"") or b""
    path = seen.path
    return (
        any(token in str(v) for v in headers.values())
        or token.encode() in body
        or "token" in parse_qs(urlsplit(path).query)
    )


def test_token_goes_in_a_header_with_its_referer_not_in_the_url(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _portal(emu, clock)
    conn.session().get(f"{emu.portal_url}/sharing/rest/community/self", params={"f": "json"})
    (seen,) = [r for r in emu.requests if r.path.endswith("/community/self")]
    token = conn.token_info()
    assert seen.headers["X-Esri-Authorization"] == f"Bearer {token.value}"
    assert seen.headers["Referer"] == token.referer
    assert "token" not in seen.query


@pytest.mark.parametrize("placement", ["body", "query"])
def test_token_in_body_or_query_only_when_asked(
    emu: Emulator, clock: ManualClock, placement: str
) -> None:
    conn = _portal(emu, clock, token_placement=placement)
    reply = conn.session().post(f"{emu.portal_url}/sharing/rest/community/self", data={"f": "json"})
    assert reply.json()["username"] == ALICE
    (seen,) = [r for r in emu.requests if r.path.endswith("/community/self")]
    where = seen.form if placement == "body" else seen.query
    assert where["token"] == conn.token()
    assert "X-Esri-Authorization" not in seen.headers


def test_untrusted_hosts_get_no_token(
    emu: Emulator, clock: ManualClock, recorder: RecordingServer
) -> None:
    conn = _portal(emu, clock)
    session = conn.session()
    session.get(recorder.url + "/anything", params={"f": "json"})
    reply = session.get(emu.service_url, params={"f": "json"}).json()  # another server
    assert reply["error"]["code"] == 499
    assert not _carries_token(recorder.received[0], conn.token())
    assert "Referer" not in recorder.received[0].headers


def test_listed_hosts_get_the_token(
    emu: Emulator, clock: ManualClock, recorder: RecordingServer
) -> None:
    conn = _portal(emu, clock, trusted_hosts=[recorder.url])
    conn.session().get(recorder.url + "/x")
    assert _carries_token(recorder.received[0], conn.token())


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("placement", ["header", "body", "query"])
def test_token_never_follows_a_redirect_to_another_host(
    emu: Emulator, clock: ManualClock, status: int, placement: str
) -> None:
    trusted, elsewhere = RecordingServer(), RecordingServer()
    try:
        trusted.redirects["/go"] = (status, elsewhere.url + "/landed")
        trusted.redirects["/same"] = (status, trusted.url + "/stay")
        conn = _portal(emu, clock, trusted_hosts=[trusted.url], token_placement=placement)
        session = conn.session()
        assert session.post(trusted.url + "/go", data={"a": "1"}).json() == {"ok": True}
        assert session.post(trusted.url + "/same", data={"a": "1"}).json() == {"ok": True}
        token = conn.token()
        assert _carries_token(trusted.received[0], token)
        (landed,) = elsewhere.received
        assert not _carries_token(landed, token)
        assert "Referer" not in landed.headers
        assert _carries_token(trusted.received[-1], token)  # same host: kept
    finally:
        trusted.stop()
        elsewhere.stop()


def test_no_token_over_plain_http_to_another_machine(emu: Emulator, clock: ManualClock) -> None:
    conn = _portal(emu, clock, trusted_hosts=["http://gis.example.com"])
    with pytest.raises(InsecureTransportError):
        conn.session().get("http://gis.example.com/arcgis/rest/services")


def test_loopback_http_can_be_refused_too(emu: Emulator, clock: ManualClock) -> None:
    with pytest.raises(InsecureTransportError):
        _portal(emu, clock, allow_http_loopback=False).token()
    assert emu.token_requests() == []
