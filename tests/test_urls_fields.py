"""URL normalisation, root comparison and field checks (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arctoken_core import fields
from arctoken_core.connection import Connection
from arctoken_core.errors import ConfigError
from arctoken_core.urls import (
    normalise_portal_url,
    normalise_server_url,
    same_root,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, "https://www.arcgis.com"),
        ("www.arcgis.com", "https://www.arcgis.com"),
        ("https://www.arcgis.com/", "https://www.arcgis.com"),
        ("https://org.maps.arcgis.com/sharing/rest", "https://org.maps.arcgis.com"),
        ("https://org.maps.arcgis.com/home/index.html", "https://org.maps.arcgis.com"),
        (
            "https://GIS.Example.com/portal/sharing/rest/generateToken",
            "https://gis.example.com/portal",
        ),
        ("gis.example.com:7443/arcgis/", "https://gis.example.com:7443/arcgis"),
    ],
)
def test_portal_urls_are_normalised(raw: str, expected: str) -> None:
    assert normalise_portal_url(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("gis.example.com", "https://gis.example.com/arcgis"),
        (
            "https://gis.example.com/arcgis/rest/services/A/MapServer",
            "https://gis.example.com/arcgis",
        ),
        ("https://gis.example.com/server/rest/info?f=json", "https://gis.example.com/server"),
        ("https://gis.example.com/arcgis/tokens/", "https://gis.example.com/arcgis"),
        ("https://gis.example.com/arcgis/admin", "https://gis.example.com/arcgis"),
    ],
)
def test_server_urls_are_normalised(raw: str, expected: str) -> None:
    assert normalise_server_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ftp://host/x",
        "https://",
        "https://host:notaport/x",
        "https://user:pw@host/portal",
        "https://ho st/portal",
    ],
)
def test_bad_urls_raise_config_error_naming_the_field(raw: str) -> None:
    with pytest.raises(ConfigError) as err:
        normalise_portal_url(raw, "url") if raw.strip() else normalise_server_url(raw, "url")
    assert err.value.field == "url"


def test_lookalike_owning_system_is_not_the_same_root() -> None:
    portal = "https://foo.arcgis.com/portal"
    assert same_root("http://foo.arcgis.com/portal/", portal)
    assert same_root("https://FOO.arcgis.com/portal/sharing/rest", portal)
    assert not same_root("https://evil.example/foo.arcgis.com/portal", portal)
    assert not same_root("https://foo.arcgis.com.evil.example/portal", portal)
    assert not same_root("https://foo.arcgis.com/portal2", portal)
    assert not same_root("https://foo.arcgis.com:8443/portal", portal)


def _problems(**values: object) -> dict[str, str]:
    found = fields.check(
        {
            "kind": "portal",
            "url": "https://gis.example.com/portal",
            "username": "a",
            "password": "b",
            **values,
        }
    )
    return {p.field: p.severity for p in found}


@pytest.mark.parametrize(
    "values, field",
    [
        ({"kind": "nope"}, "kind"),
        ({"url": "http://gis.example.com/portal"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"username": ""}, "username"),
        ({"password": None}, "password"),
        ({"expiration": 0}, "expiration"),
        ({"expiration": 20161}, "expiration"),
        ({"expiration": "ten"}, "expiration"),
        ({"proxy": "proxy.example.com"}, "proxy"),
        ({"proxy": ":8080"}, "proxy"),
        ({"proxy": "socks5://p:1080"}, "proxy"),
        ({"proxy_username": "u"}, "proxy"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle"),
        ({"referer": "two\nlines"}, "referer"),
        ({"server_url": "http://gis.example.com/server"}, "server_url"),
    ],
)
def test_each_bad_field_is_named(values: dict[str, object], field: str) -> None:
    assert _problems(**values).get(field) == "error"


def test_loopback_http_is_a_warning_and_good_input_has_no_problem(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert _problems(url="http://127.0.0.1:8080/portal") == {"url": "warning"}
    assert _problems(proxy="proxy.example.com:8080", ca_bundle=str(bundle)) == {}
    assert _problems(verify=False) == {"verify": "warning"}


@pytest.mark.parametrize(
    "kind, needs",
    [
        ("app", {"client_id", "client_secret"}),
        ("apikey", {"api_key"}),
        ("server", {"url", "username", "password"}),
        ("pro", set()),
    ],
)
def test_each_kind_asks_for_what_it_needs(kind: str, needs: set[str]) -> None:
    found = {p.field for p in fields.check({"kind": kind}) if p.severity == "error"}
    assert found == needs


def test_connection_raises_the_first_error_with_field_and_fix() -> None:
    with pytest.raises(ConfigError) as err:
        Connection(kind="portal", url="http://gis.example.com/portal", username="a", password="b")
    assert err.value.field == "url"
    assert "https://" in str(err.value)
    with pytest.raises(ConfigError) as err:
        Connection(kind="online", username="a", password="b", expiration=99999)
    assert err.value.field == "expiration"


def test_connection_does_not_touch_the_network_when_created() -> None:
    conn = Connection(kind="portal", url="gis.invalid/portal", username="a", password="b")
    assert conn.url == "https://gis.invalid/portal"
    assert "b" not in repr(conn)


def test_validating_fields_does_not_import_requests() -> None:
    """The tool dialog validates on every keystroke: that must not load the network stack."""
    import subprocess
    import sys

    code = (
        "import sys, arctoken_core.fields, arctoken_core.toolbox.spec;"
        "import arctoken_core.toolbox.behaviour;"
        "print('requests' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
