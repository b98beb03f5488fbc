"""Optional deployments the emulator can play (real sockets, real TLS): the Online hosting
server, a server before 10.6, a web-tier server, an https-only server, a PKI portal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest
import requests

from arctoken_emulator import Emulator

PASSWORD = "wonderland"
Json = Dict[str, Any]


def generate(url: str, **data: str) -> Json:
    """POST a generateToken form."""
    form = {"username": "alice", "password": PASSWORD, "f": "json", **data}
    body: Json = requests.post(url, data=form, timeout=10).json()
    return body


def get(
    url: str,
    token: Optional[str] = None,
    in_header: bool = True,
    query: Optional[Dict[str, str]] = None,
    **kw: Any,
) -> Json:
    """GET with f=json (and ``query``), the token in the X-Esri-Authorization header or
    the query; ``kw`` goes to requests (verify, cert)."""
    params = {"f": "json", **(query or {})}
    headers = {}
    if token and in_header:
        headers["X-Esri-Authorization"] = f"Bearer {token}"
    elif token:
        params["token"] = token
    body: Json = requests.get(url, params=params, headers=headers, timeout=10, **kw).json()
    return body


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """A plain emulator for the hosting-server tests."""
    with Emulator(users={"alice": PASSWORD}) as running:
        yield running


def test_hosting_server_looks_like_services_arcgis_com(emu: Emulator) -> None:
    assert emu.hosted_server_url.endswith("/0123456789ABCDEF/arcgis")
    info = get(f"{emu.hosted_server_url}/rest/info")
    online_host = emu.online_url.split("://", 1)[1]
    assert info["owningSystemUrl"] == f"http://{online_host}"
    assert info["authInfo"]["tokenServicesUrl"] == f"{emu.online_url}/sharing/rest/generateToken"
    assert info["authInfo"]["isTokenBasedSecurity"] is True


def test_hosting_server_takes_online_tokens_and_api_keys_only(emu: Emulator) -> None:
    online = generate(f"{emu.online_url}/sharing/rest/generateToken")["token"]
    assert get(emu.hosted_service_url, online)["user"] == "alice"
    assert get(f"{emu.hosted_service_url}/0/query", online, query={"where": "1=1"})["features"]
    key = next(iter(emu.api_keys))
    assert get(emu.hosted_service_url, key)["user"] == "apikey"
    portal = generate(f"{emu.portal_url}/sharing/rest/generateToken")["token"]
    assert get(emu.hosted_service_url, portal) == {
        "error": {"code": 498, "message": "Invalid token.", "details": []}
    }
    assert get(emu.hosted_service_url)["error"]["code"] == 499
    assert get(f"{emu.hosted_server_url}/tokens/generateToken")["error"]["code"] == 404


def test_server_before_10_6_ignores_the_header() -> None:
    with Emulator(users={"alice": PASSWORD}, server_before_10_6=True) as emu:
        assert get(f"{emu.server_url}/rest/info")["currentVersion"] < 10.6
        token = generate(f"{emu.server_url}/tokens/generateToken")["token"]
        assert get(emu.service_url, token)["error"]["code"] == 499
        assert get(emu.service_url, token, in_header=False)["user"] == "alice"
        form = {"f": "json", "token": token}
        assert requests.post(emu.service_url, data=form, timeout=10).json()["user"] == "alice"
        federated = generate(f"{emu.portal_url}/sharing/rest/generateToken")["token"]
        assert get(emu.federated_service_url, federated)["user"] == "alice"


def test_web_tier_server_says_so_and_challenges() -> None:
    with Emulator(users={"alice": PASSWORD}, server_web_tier=True) as emu:
        info = get(f"{emu.server_url}/rest/info")
        assert info["authInfo"] == {"isTokenBasedSecurity": False}
        form = {"username": "alice", "password": PASSWORD, "f": "json"}
        reply = requests.post(f"{emu.server_url}/tokens/generateToken", data=form, timeout=10)
        assert reply.status_code == 401 and "Negotiate" in reply.headers["WWW-Authenticate"]
        assert requests.get(emu.service_url, timeout=10).status_code == 401


def test_https_only_server_answers_ssl_required_over_http() -> None:
    with Emulator(users={"alice": PASSWORD}, server_https_only=True) as emu:
        assert get(f"{emu.server_url}/rest/info")["authInfo"]["isTokenBasedSecurity"] is True
        body = generate(f"{emu.server_url}/tokens/generateToken")
        assert body == {"error": {"code": 403, "message": "SSL Required", "details": []}}
        assert get(emu.service_url)["error"]["code"] == 403
        assert "token" in generate(f"{emu.portal_url}/sharing/rest/generateToken")


# -- the PKI portal --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """A CA, a server certificate for 127.0.0.1, and a client certificate for alice."""
    trustme = pytest.importorskip("trustme")
    folder: Path = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    files = {name: str(folder / f"{name}.pem") for name in ("ca", "server", "alice", "other")}
    ca.cert_pem.write_to_path(files["ca"])
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(files["server"])
    alice = ca.issue_cert("alice@example.invalid", common_name="alice")
    alice.private_key_and_cert_chain_pem.write_to_path(files["alice"])
    stranger = trustme.CA().issue_cert("alice@example.invalid", common_name="alice")
    stranger.private_key_and_cert_chain_pem.write_to_path(files["other"])
    return files


def test_pki_portal_signs_in_from_the_client_certificate(pki: Dict[str, str]) -> None:
    with Emulator(users={"alice": PASSWORD}, certfile=pki["server"], client_ca=pki["ca"]) as emu:
        base = f"{emu.pki_portal_url}/sharing/rest"
        tls: Dict[str, Any] = {"verify": pki["ca"], "cert": pki["alice"]}
        info = get(f"{base}/info", **tls)
        assert info["authInfo"]["isTokenBasedSecurity"] is False
        assert get(f"{base}/portals/self", **tls)["user"]["username"] == "alice"
        form = {"f": "json", "client": "referer", "referer": "https://app.example/"}
        reply = requests.post(f"{base}/generateToken", data=form, timeout=10, **tls).json()
        assert reply["ssl"] is True and reply["token"]
        headers = {"Referer": "https://app.example/", "X-Esri-Authorization": "Bearer x"}
        bogus = requests.get(f"{base}/community/self?f=json", headers=headers, timeout=10, **tls)
        assert bogus.json()["error"]["code"] == 498
        headers["X-Esri-Authorization"] = f"Bearer {reply['token']}"
        me = requests.get(f"{base}/community/self?f=json", headers=headers, timeout=10, **tls)
        assert me.json()["username"] == "alice"
        assert emu.requests[-1].client_user == "alice"


def test_pki_portal_refuses_connections_without_a_trusted_certificate(
    pki: Dict[str, str],
) -> None:
    with Emulator(certfile=pki["server"], client_ca=pki["ca"]) as emu:
        url = f"{emu.pki_portal_url}/sharing/rest/portals/self?f=json"
        for cert in (None, pki["other"]):
            with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
                requests.get(url, verify=pki["ca"], cert=cert, timeout=10)
        ordinary = requests.get(f"{emu.portal_url}/sharing/rest/info?f=json", verify=pki["ca"])
        assert ordinary.json()["authInfo"]["isTokenBasedSecurity"] is True


def test_pki_portal_needs_tls() -> None:
    with pytest.raises(ValueError, match="certfile"):
        Emulator(client_ca="ca.pem")


def test_plain_http_to_an_https_origin_is_redirected(pki: Dict[str, str]) -> None:
    with Emulator(certfile=pki["server"]) as emu:
        plain = "http://" + emu.online_url.split("://", 1)[1] + "/sharing/rest/info?f=json"
        moved = requests.get(plain, allow_redirects=False, timeout=10)
        assert moved.status_code == 301
        assert moved.headers["Location"] == f"{emu.online_url}/sharing/rest/info?f=json"
        followed = requests.get(plain, verify=pki["ca"], timeout=10)
        assert followed.json()["owningSystemUrl"] == emu.online_url


def test_online_exchanges_its_token_for_the_hosting_server(emu: Emulator) -> None:
    online = generate(f"{emu.online_url}/sharing/rest/generateToken")["token"]
    form = {"f": "json", "token": online, "serverUrl": emu.hosted_server_url}
    url = f"{emu.online_url}/sharing/rest/generateToken"
    body = requests.post(url, data=form, timeout=10).json()
    assert get(emu.hosted_service_url, body["token"])["user"] == "alice"
