"""The kind table, the sign-in factory, one request per sign-in, and option checks."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from arctoken_core import kinds
from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import (
    ArcGISServiceError,
    ConfigError,
    InsecureTransportError,
    ResponseFormatError,
)
from arctoken_core.signin.factory import provider_for
from arctoken_core.transport.scope import owned_by
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.support import TLSFiles


def _portal(emu: Emulator, clock: ManualClock, **extra: Any) -> Connection:
    return Connection(
        kind="portal", url=emu.portal_url, username=ALICE, password=ALICE_PASSWORD, clock=clock,
        **extra,
    )  # fmt: skip


def test_every_kind_row_names_a_provider_module_that_exists() -> None:
    import importlib

    for row in kinds.KINDS.values():
        module, function = row.provider.split(":")
        builder = getattr(importlib.import_module(f"arctoken_core.signin.{module}"), function)
        assert callable(builder), row.name
        assert row.root in ("portal", "server")
        assert {name for name, _ in row.required} <= set(row.fields), row.name


def test_kinds_using_a_field_follow_the_rows() -> None:
    assert kinds.kinds_using("password") == ("online", "portal", "server", "iwa")
    assert kinds.FEDERATING_KINDS == ("online", "portal", "pro", "user_oauth", "pki", "iwa")
    assert "apikey" not in kinds.kinds_using("expiration")


def test_factory_builds_the_kinds_provider_without_touching_the_network(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _portal(emu, clock)
    emu.clear_requests()
    provider = provider_for(conn)
    assert provider.audience == conn.url
    assert emu.requests == []


def test_a_portal_sign_in_is_one_request(emu: Emulator, clock: ManualClock) -> None:
    conn = _portal(emu, clock)
    emu.clear_requests()
    conn.token()
    paths = [r.path for r in emu.requests]
    assert paths == ["/portal/sharing/rest/generateToken"]


def test_a_missing_token_service_is_looked_up_once_and_not_posted_to_twice(
    emu: Emulator, clock: ManualClock
) -> None:
    emu.inject_fault("/sharing/rest/generateToken", "status", status=404, body="Not Found")
    conn = _portal(emu, clock)
    emu.clear_requests()
    with pytest.raises(ArcGISServiceError) as err:
        conn.token()
    assert err.value.code == 404
    paths = [r.path for r in emu.requests]
    # the portal advertises the same standard URL: the password is not posted there again
    assert paths == ["/portal/sharing/rest/generateToken", "/portal/sharing/rest/info"]


def test_a_refused_password_is_not_sent_again_to_look_for_another_service(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = Connection(
        kind="portal", url=emu.portal_url, username=ALICE, password="wrong", clock=clock
    )
    emu.clear_requests()
    with pytest.raises(Exception):  # noqa: B017 - AuthenticationError, its kind pinned elsewhere
        conn.token()
    assert [r.path for r in emu.requests] == ["/portal/sharing/rest/generateToken"]


@pytest.mark.parametrize(
    "option, value",
    [
        ("retries", -1),
        ("retries", "3"),
        ("retries", 1.5),
        ("clock", 12),
        ("signin", "token"),
        ("api_key_expires", "tomorrow"),
        ("api_key_expires", float("nan")),
        ("api_key_expires", 1e20),
        ("trusted_hosts", "gis.example.com"),
        ("trusted_hosts", [1, 2]),
    ],
)
def test_bad_options_are_config_errors_naming_the_field(option: str, value: Any) -> None:
    with pytest.raises(ConfigError) as err:
        Connection(kind="portal", url="https://gis.example.com/portal", username="a",
                   password="b", **{option: value})  # fmt: skip
    assert err.value.field == option


def test_owned_by_compares_parsed_roots_and_knows_online_hosting() -> None:
    assert owned_by("https://gis.example.com/portal", "https://GIS.example.com/portal/")
    assert not owned_by("https://gis.example.com/portal", "https://gis.example.com/other")
    assert owned_by("http://www.arcgis.com", "https://myorg.maps.arcgis.com")
    assert not owned_by("http://www.arcgis.com", "https://gis.example.com/portal")
    assert not owned_by("https://evil.example/www.arcgis.com", "https://myorg.maps.arcgis.com")


@pytest.fixture
def tls_emu(tls: TLSFiles, clock: ManualClock) -> Iterator[Emulator]:
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        clock=clock,
        certfile=str(tls.cert_file),
        keyfile=str(tls.cert_file),
    ) as emulator:
        yield emulator


def test_a_portal_session_proves_a_federated_server_by_itself(
    tls_emu: Emulator, clock: ManualClock, tls: TLSFiles
) -> None:
    conn = _portal(tls_emu, clock, ca_bundle=str(tls.ca_file))
    session = conn.session()
    tls_emu.clear_requests()
    for _ in range(2):
        session.get(tls_emu.federated_service_url, params={"f": "json"})
    federated = [r for r in tls_emu.requests if r.origin == "federated"]
    info = [r for r in federated if r.path.endswith("/rest/info")]
    assert len(info) == 1, "the federation proof is asked once per server"
    assert "X-Esri-Authorization" not in info[0].headers, "the proof is anonymous"
    secured = [r for r in federated if not r.path.endswith("/rest/info")]
    assert secured and all("X-Esri-Authorization" in r.headers for r in secured)


def test_a_server_that_is_not_proven_gets_no_token(
    tls_emu: Emulator, clock: ManualClock, tls: TLSFiles
) -> None:
    conn = _portal(tls_emu, clock, ca_bundle=str(tls.ca_file))
    session = conn.session()
    tls_emu.clear_requests()
    session.get(
        f"{tls_emu.foreign_server_url}/rest/services/Secure/MapServer", params={"f": "json"}
    )
    foreign = [r for r in tls_emu.requests if r.origin == "foreign"]
    assert foreign and all("X-Esri-Authorization" not in r.headers for r in foreign)
    assert all("token" not in r.form and "token" not in r.query for r in foreign)


def test_403_ssl_required_is_not_called_a_wrong_password(emu: Emulator, clock: ManualClock) -> None:
    # real ArcGIS answers HTTP 200 with this envelope when https is required
    body = '{"error": {"code": 403, "message": "SSL Required", "details": []}}'
    emu.inject_fault("/sharing/rest/generateToken", "status", status=200, body=body)
    conn = _portal(emu, clock)
    with pytest.raises(InsecureTransportError) as err:
        conn.token()
    assert err.value.field == "url"
    assert "https" in str(err.value) and "password" not in str(err.value).lower()
    assert emu.failed_logins(ALICE) == 0


def test_a_web_tier_server_is_named_as_such_and_gets_no_password(
    emu: Emulator, clock: ManualClock
) -> None:
    # a server behind web-tier (IWA/PKI) authentication says so in /rest/info
    info = '{"currentVersion": 11.3, "authInfo": {"isTokenBasedSecurity": false}}'
    emu.inject_fault("/rest/info", "status", status=200, body=info)
    conn = Connection(kind="server", url=emu.server_url, username=ALICE, password=ALICE_PASSWORD,
                      clock=clock)  # fmt: skip
    emu.clear_requests()
    with pytest.raises(ConfigError) as err:
        conn.token()
    assert "web-tier" in str(err.value)
    assert emu.token_requests() == []


def test_oauth_expires_in_may_be_a_numeric_string() -> None:
    from arctoken_core.signin.base import oauth_token_from_reply

    token = oauth_token_from_reply(
        {"access_token": "abc.def", "expires_in": "7200"}, 1000.0, audience="x"
    )
    assert token.expires_at == 8200.0
    for bad in ("soon", "nan", "inf", "0", True, None):
        with pytest.raises(ResponseFormatError):
            oauth_token_from_reply({"access_token": "abc", "expires_in": bad}, 0.0, audience="x")
