"""Origins are compared the way requests connects: one host per URL, IDNA-encoded, or refused."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ConfigError
from arctoken_core.urls import normalise_portal_url, normalise_server_url, origin_key
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.scripted import ScriptedServer, json_reply


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:8000\\@127.0.0.1:9000/arcgis/tokens/",  # urlsplit: OWN; urllib3: OTHER
        "https://user:pw@gis.example.com/arcgis",
        "https://gis.example.com@evil.example/portal",
        "https://gis..example.com/portal",
        "https://.gis.example.com/portal",
    ],
)
def test_urls_read_two_ways_or_with_userinfo_or_empty_labels_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        origin_key(url, "tokenServicesUrl")
    assert err.value.field == "tokenServicesUrl"


@pytest.mark.parametrize("normalise", [normalise_portal_url, normalise_server_url])
def test_a_host_with_an_empty_label_is_a_config_error_naming_the_field(normalise: object) -> None:
    with pytest.raises(ConfigError) as err:
        normalise("https://gis..example.com/portal", "url")  # type: ignore[operator]
    assert err.value.field == "url" and "empty label" in str(err.value)


def test_an_idn_host_compares_equal_to_its_ascii_form() -> None:
    assert origin_key("https://gïs.example.com/portal") == origin_key(
        "https://xn--gs-tja.example.com/portal/sharing/rest"
    )
    assert origin_key("https://GIS.example.com.") == ("gis.example.com.", 443)


def test_portal_apps_urls_normalise_to_the_portal_root() -> None:
    assert normalise_portal_url("https://gis.example.com/portal/apps/mapviewer/index.html") == (
        "https://gis.example.com/portal"
    )
    assert normalise_portal_url("https://org.maps.arcgis.com/apps/instant/x?id=1") == (
        "https://org.maps.arcgis.com"
    )


@pytest.fixture
def foreign() -> Iterator[ScriptedServer]:
    """The host nobody named: 127.0.0.2 (on Linux all of 127/8 is loopback)."""
    with ScriptedServer(host="127.0.0.2") as server:
        yield server


def _token_reply() -> object:
    return json_reply({"token": "own-token-1234567890", "expires": (time.time() + 3600) * 1000})


def test_a_backslash_token_service_url_never_gets_the_password(
    foreign: ScriptedServer,
) -> None:
    with ScriptedServer() as own:
        evil = f"http://127.0.0.2:{foreign.port}\\@127.0.0.1:{own.port}/arcgis/tokens/"
        own.routes["/arcgis/rest/info"] = json_reply(
            {
                "currentVersion": 11.1,
                "authInfo": {"isTokenBasedSecurity": True, "tokenServicesUrl": evil},
            }
        )
        own.routes["/arcgis/tokens/generateToken"] = _token_reply()  # type: ignore[assignment]
        conn = Connection(
            kind="server", url=own.url + "/arcgis", username=ALICE, password=ALICE_PASSWORD
        )
        assert conn.token() == "own-token-1234567890"
        assert foreign.received == []
        assert "/arcgis/tokens/generateToken" in own.paths()


def test_a_backslash_portal_token_service_url_never_gets_the_password(
    foreign: ScriptedServer,
) -> None:
    with ScriptedServer() as own:
        evil = f"http://127.0.0.2:{foreign.port}\\@127.0.0.1:{own.port}/portal/sharing/rest/x"
        own.routes["/portal/sharing/rest/info"] = json_reply(
            {"authInfo": {"isTokenBasedSecurity": True, "tokenServicesUrl": evil}}
        )
        own.routes["/portal/sharing/rest/generateToken"] = _token_reply()  # type: ignore[assignment]
        conn = Connection(
            kind="portal", url=own.url + "/portal", username=ALICE, password=ALICE_PASSWORD
        )
        assert conn.token() == "own-token-1234567890"
        assert foreign.received == []


def test_an_idn_portal_host_gets_its_own_token(clock: ManualClock, emu: Emulator) -> None:
    conn = Connection(
        kind="portal",
        url="https://gïs.example.com/portal",
        username=ALICE,
        password=ALICE_PASSWORD,
        clock=clock,
    )
    assert conn.scope.own("https://xn--gs-tja.example.com/portal/sharing/rest/community/self")
    assert not conn.scope.own("https://xn--gs-uja.example.com/portal/sharing/rest")


TRICKY = [
    "http://127.0.0.2:8000\\@127.0.0.1:9000/arcgis/tokens/",
    "https://a.example#@b.example/",
    "https://a.example?@b.example/",
    "https://a.example\\.b.example/",
    "https://gïs.example.com:8443/portal",
    "http://[::1]:8080/x",
    "HTTPS://GIS.Example.COM/portal",
    "https://gis.example.com:443",
    "https://a.example/\\@b.example",
]


@pytest.mark.parametrize("url", TRICKY)
def test_origin_key_agrees_with_urllib3_or_refuses(url: str) -> None:
    from urllib3.util import parse_url

    wire = parse_url(url)
    try:
        host, port = origin_key(url)
    except ConfigError:
        return
    assert host == (wire.host or "").strip("[]").lower()
    assert port == (wire.port or {"http": 80, "https": 443}[wire.scheme or ""])
