"""Every kind of connection gets a valid token from the emulator, with units pinned."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ConfigError, NotFederatedError, SignInRequiredError
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, API_KEY, APP_ID, APP_SECRET, LIFETIME

SIGNIN: Dict[str, Any] = {"username": ALICE, "password": ALICE_PASSWORD}


def _conn(emu: Emulator, clock: ManualClock, **options: Any) -> Connection:
    return Connection(clock=clock, **options)


@pytest.mark.parametrize(
    "options, service",
    [
        ({"kind": "online", "url": "online_url", **SIGNIN}, "online_service_url"),
        ({"kind": "server", "url": "server_url", **SIGNIN}, "service_url"),
        (
            {"kind": "portal", "url": "portal_url", "server_url": "federated_server_url", **SIGNIN},
            "federated_service_url",
        ),
        (
            {
                "kind": "server",
                "url": "federated_server_url",
                "trusted_hosts": ["portal_url"],
                **SIGNIN,
            },
            "federated_service_url",
        ),
        (
            {"kind": "app", "url": "online_url", "client_id": APP_ID, "client_secret": APP_SECRET},
            "online_service_url",
        ),
        ({"kind": "apikey", "url": "online_url", "api_key": API_KEY}, "online_service_url"),
    ],
)
def test_each_kind_opens_its_secured_service(
    emu: Emulator, clock: ManualClock, options: Dict[str, Any], service: str
) -> None:
    resolved = {k: getattr(emu, v) if k in ("url", "server_url") else v for k, v in options.items()}
    if "trusted_hosts" in options:
        resolved["trusted_hosts"] = [getattr(emu, v) for v in options["trusted_hosts"]]
    conn = _conn(emu, clock, **resolved)
    reply = conn.request_json("GET", getattr(emu, service))
    assert "error" not in reply
    assert conn.token()  # the same token, still valid


def test_enterprise_portal_token_answers_who_am_i(emu: Emulator, clock: ManualClock) -> None:
    conn = _conn(emu, clock, kind="portal", url=emu.portal_url, **SIGNIN)
    me = conn.request_json("GET", f"{emu.portal_url}/sharing/rest/community/self")
    assert me["username"] == ALICE


def test_password_goes_once_in_a_post_body_with_referer_and_minutes(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _conn(emu, clock, kind="portal", url=emu.portal_url, expiration=30, **SIGNIN)
    token = conn.token_info()
    (sent,) = emu.token_requests()
    assert sent.method == "POST"
    assert "password" not in sent.query and "username" not in sent.query
    assert sent.form["password"] == ALICE_PASSWORD
    assert sent.form["client"] == "referer" and sent.form["referer"] == token.referer
    assert sent.form["expiration"] == "30"  # MINUTES
    assert token.expires_at - clock() == pytest.approx(min(30 * 60, LIFETIME))


def test_standalone_server_found_through_tokens_slash_and_string_expires(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _conn(emu, clock, kind="server", url=emu.server_url + "/rest/services", **SIGNIN)
    token = conn.token_info()
    (sent,) = emu.token_requests()
    assert sent.path.endswith("/tokens/generateToken")
    assert token.expires_at - clock() == pytest.approx(LIFETIME)  # from "expires" as a string


def test_app_expires_in_is_seconds(emu: Emulator, clock: ManualClock) -> None:
    conn = _conn(
        emu,
        clock,
        kind="app",
        url=emu.online_url,
        client_id=APP_ID,
        client_secret=APP_SECRET,
        expiration=5,
    )
    assert conn.token_info().expires_at - clock() == pytest.approx(5 * 60)
    (sent,) = emu.token_requests()
    assert sent.form["grant_type"] == "client_credentials"


def test_api_key_with_expiry_is_respected(emu: Emulator, clock: ManualClock) -> None:
    conn = _conn(
        emu,
        clock,
        kind="apikey",
        url=emu.online_url,
        api_key=API_KEY,
        api_key_expires=clock() + 100,
    )
    assert conn.token_info().expires_at == clock() + 100
    assert emu.token_requests() == []


def test_federated_token_is_cached_per_server(emu: Emulator, clock: ManualClock) -> None:
    conn = _conn(emu, clock, kind="portal", url=emu.portal_url, **SIGNIN)
    server = conn.add_server(emu.federated_server_url + "/rest/services")
    assert server is conn.add_server(emu.federated_server_url)
    first = server.token()
    assert server.token() is first
    exchange = [r for r in emu.token_requests() if "serverUrl" in r.form]
    assert len(exchange) == 1
    assert exchange[0].form["serverUrl"] == emu.federated_server_url
    assert "password" not in exchange[0].form


@pytest.mark.parametrize("server", ["server_url", "foreign_server_url"])
def test_not_federated_is_refused(emu: Emulator, clock: ManualClock, server: str) -> None:
    conn = _conn(
        emu, clock, kind="portal", url=emu.portal_url, server_url=getattr(emu, server), **SIGNIN
    )
    with pytest.raises(NotFederatedError) as err:
        conn.token()
    assert "not federated" in str(err.value)
    assert emu.token_requests() == []  # no credentials sent anywhere


def test_advertised_internal_host_falls_back_to_the_portal(clock: ManualClock) -> None:
    with Emulator(users={ALICE: ALICE_PASSWORD}, clock=clock, advertise_internal_host=True) as emu:
        conn = Connection(kind="portal", url=emu.portal_url, clock=clock, **SIGNIN)
        assert conn.token()
        (sent,) = emu.token_requests()
        assert sent.origin == "portal"


def test_skewed_server_clock_still_gives_local_expiry(clock: ManualClock) -> None:
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        clock=clock,
        token_lifetime=LIFETIME,
        server_clock_offset=3 * 3600,
    ) as emu:
        conn = Connection(kind="portal", url=emu.portal_url, clock=clock, **SIGNIN)
        token = conn.token_info()
        assert token.expires_at - clock() == pytest.approx(LIFETIME, abs=2)
        clock.advance(LIFETIME - 30)  # inside the refresh window on OUR clock
        assert conn.token() != token.value


def test_api_key_sends_a_referer_only_when_given(emu: Emulator, clock: ManualClock) -> None:
    plain = _conn(emu, clock, kind="apikey", url=emu.online_url, api_key=API_KEY)
    assert plain.token_info().referer is None
    plain.session().get(emu.online_service_url, params={"f": "json"})
    bound = _conn(emu, clock, kind="apikey", url=emu.online_url, api_key=API_KEY, referer="app-x")
    assert bound.token_info().referer == "app-x"
    bound.session().get(emu.online_service_url, params={"f": "json"})
    sent = [r.headers.get("Referer") for r in emu.requests if "/Hosted/" in r.path]
    assert sent == [None, "app-x"]


def test_pro_kind_outside_arcgis_pro_says_so() -> None:
    conn = Connection(kind="pro", url="https://gis.example.com/portal")
    with pytest.raises(SignInRequiredError) as err:
        conn.token()
    assert "ArcGIS Pro" in str(err.value)


def test_a_federated_server_does_not_choose_where_the_password_goes(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _conn(emu, clock, kind="server", url=emu.federated_server_url, **SIGNIN)
    with pytest.raises(ConfigError) as err:
        conn.token()
    assert "kind 'portal'" in str(err.value) and emu.portal_url in str(err.value)
    assert emu.token_requests() == []
