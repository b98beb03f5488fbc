"""The token after a redirect and on a 498/499 retry: judged on the URL really sent to.

127.0.0.2 plays the foreign host (on Linux all of 127/8 is loopback).
"""

from __future__ import annotations

import http.server
import ssl
import threading
from typing import Any, Iterator
from urllib.parse import parse_qs

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import InvalidTokenError
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.scripted import ScriptedServer, json_reply, redirect
from tests.support import Recorded, TLSFiles

REJECTED = json_reply({"error": {"code": 498, "message": "Invalid token."}})
REQUIRED = json_reply({"error": {"code": 499, "message": "Token Required"}})


def _portal(emu: Emulator, clock: ManualClock, **extra: Any) -> Connection:
    return Connection(
        kind="portal",
        url=emu.portal_url,
        username=ALICE,
        password=ALICE_PASSWORD,
        clock=clock,
        **extra,
    )


def _has_token(seen: Recorded) -> bool:
    return (
        "X-Esri-Authorization" in seen.headers
        or "Referer" in seen.headers
        or b"token=" in seen.body
        or "token" in parse_qs(seen.path.partition("?")[2])
    )


@pytest.fixture
def foreign() -> Iterator[ScriptedServer]:
    """A host nobody named, answering 498 to everything."""
    with ScriptedServer({"/landed": REJECTED}, host="127.0.0.2") as server:
        yield server


@pytest.mark.parametrize("status", [302, 307])
def test_a_498_after_a_redirect_to_a_foreign_host_signs_in_nowhere_and_sends_nothing(
    emu: Emulator, clock: ManualClock, foreign: ScriptedServer, status: int
) -> None:
    with ScriptedServer() as trusted:
        trusted.routes["/go"] = redirect(foreign.url + "/landed", status)
        conn = _portal(emu, clock, trusted_hosts=[trusted.url])
        reply = conn.session().post(trusted.url + "/go", data={"f": "json"})
        assert reply.json()["error"]["code"] == 498  # the foreign answer, as it came
        assert _has_token(trusted.received[0])
        assert len(foreign.received) == 1 and not _has_token(foreign.received[0])
        assert len(emu.token_requests()) == 1  # no second sign-in for the foreign host
        assert conn.rejections == 0


def test_a_redirect_to_a_federated_server_gets_that_servers_own_token(
    emu: Emulator, clock: ManualClock
) -> None:
    with ScriptedServer() as trusted:
        trusted.routes["/go"] = redirect(emu.federated_service_url + "?f=json", 302)
        conn = _portal(emu, clock, trusted_hosts=[trusted.url], server_url=emu.federated_server_url)
        reply = conn.session().get(trusted.url + "/go")
        assert reply.json()["user"] == ALICE
        own = conn.handler(emu.federated_server_url).token().value
        sent = [r for r in emu.requests if "Secure/MapServer" in r.path]
        assert sent[-1].headers["X-Esri-Authorization"] == f"Bearer {own}"


@pytest.fixture
def dual(tls: TLSFiles) -> Iterator[ScriptedServer]:
    """https and plain http on one port: the downgrade really reaches the same host:port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.cert_file))
    with ScriptedServer(tls=context) as server:
        yield server


def test_an_https_to_http_redirect_on_the_same_host_and_port_drops_the_token(
    emu: Emulator, clock: ManualClock, dual: ScriptedServer, tls: TLSFiles
) -> None:
    dual.routes["/go"] = redirect(dual.url + "/landed")
    conn = _portal(emu, clock, trusted_hosts=[dual.https_url], ca_bundle=str(tls.ca_file))
    assert conn.session().get(dual.https_url + "/go").json() == {"ok": True}
    first, landed = dual.received
    assert dual.schemes == ["https", "http"]
    assert _has_token(first) and not _has_token(landed)


def test_a_498_to_a_generator_body_is_not_resent_and_says_why(
    emu: Emulator, clock: ManualClock
) -> None:
    with ScriptedServer({"/upload": REJECTED}) as trusted:
        conn = _portal(emu, clock, trusted_hosts=[trusted.url])
        chunks = (part for part in [b"a=1", b"&b=2"])
        with pytest.raises(InvalidTokenError) as err:
            conn.session().post(trusted.url + "/upload", data=chunks)
        assert "cannot be re-read" in str(err.value)
        assert len(trusted.received) == 1


def test_a_streamed_get_is_not_read_by_the_token_check(emu: Emulator, clock: ManualClock) -> None:
    release, done = threading.Event(), threading.Event()
    part = b'{"error": {"code": 498}, "pad": "' + b"x" * 70000

    def slow(handler: http.server.BaseHTTPRequestHandler, seen: Recorded) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(part) + 2))
        handler.end_headers()
        handler.wfile.write(part)
        handler.wfile.flush()
        release.wait(20)
        handler.wfile.write(b'"}')
        done.set()

    with ScriptedServer({"/big": slow}) as trusted:
        conn = _portal(emu, clock, trusted_hosts=[trusted.url])
        reply = conn.session().get(trusted.url + "/big", stream=True)
        assert not done.is_set()  # returned before the server finished the body
        release.set()
        assert len(reply.content) == len(part) + 2
        assert len(trusted.received) == 1


def _legacy(handler: http.server.BaseHTTPRequestHandler, seen: Recorded) -> None:
    """A server before 10.6: the token header means nothing, body or query tokens work."""
    query = parse_qs(seen.path.partition("?")[2])
    form = parse_qs(seen.body.decode())
    status, headers, body = (
        json_reply({"ok": True}) if "token" in query or "token" in form else REQUIRED
    )
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_a_server_before_10_6_gets_the_token_in_the_body_after_one_499(
    emu: Emulator, clock: ManualClock
) -> None:
    with ScriptedServer({"/svc": _legacy}) as old:
        conn = _portal(emu, clock, trusted_hosts=[old.url])
        session = conn.session()
        assert session.post(old.url + "/svc", data={"f": "json"}).json() == {"ok": True}
        first, resent = old.received
        assert "X-Esri-Authorization" in first.headers and b"token=" not in first.body
        assert parse_qs(resent.body.decode())["token"] == [conn.token()]
        assert session.post(old.url + "/svc", data={"f": "json"}).json() == {"ok": True}
        assert session.get(old.url + "/svc", params={"f": "json"}).json() == {"ok": True}
        assert len(old.received) == 4  # remembered: body, then query, straight away
        assert len(emu.token_requests()) == 1  # no extra sign-in
