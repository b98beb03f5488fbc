"""OAuth 2.0 user sign-in on the emulated portals, driven like a browser would (real sockets)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Dict, Iterator, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from arctoken_core.clock import ManualClock
from arctoken_emulator import Emulator

START = 1_800_000_000.0
PASSWORD = "wonderland"
CLIENT = "nativeapp"
LOOPBACK = "http://127.0.0.1:53682/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
VERIFIER = "v" * 20 + "-verifier-of-pkce-long-enough-0123456789"
Json = Dict[str, Any]


def challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when a test says so."""
    return ManualClock(START)


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[Emulator]:
    """An emulator with one native app (loopback and out-of-band redirects allowed)."""
    with Emulator(
        users={"alice": PASSWORD},
        clock=clock,
        apps={CLIENT: "unused-secret", "webapp": "websecret"},
        redirect_uris={"webapp": ["https://app.example/callback"]},
        refresh_token_lifetime=7200.0,
        lockout_threshold=3,
    ) as running:
        yield running


def rest(emu: Emulator, online: bool = False) -> str:
    """The sharing/rest root of a portal."""
    return f"{emu.online_url if online else emu.portal_url}/sharing/rest"


def authorize(emu: Emulator, **extra: str) -> requests.Response:
    """GET the authorize page for the native app with PKCE S256 and a loopback redirect."""
    params = {
        "client_id": CLIENT,
        "response_type": "code",
        "redirect_uri": LOOPBACK,
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        "state": "st4te",
        **extra,
    }
    return requests.get(f"{rest(emu)}/oauth2/authorize", params=params, timeout=10)


def oauth_state(page: requests.Response) -> str:
    """The pending sign-in the page carries, read the way Esri's Python client reads it."""
    found = re.search(r"var oAuthInfo = ({.*?});", page.text)
    assert found is not None, page.text
    info: Json = json.loads(found.group(1))
    hidden = re.search(r'name="oauth_state" value="([^"]+)"', page.text)
    assert hidden is not None and hidden.group(1) == info["oauth_state"]
    return str(info["oauth_state"])


def sign_in(emu: Emulator, page: requests.Response, **form: str) -> requests.Response:
    """Submit the sign-in form (no redirect following)."""
    action = re.search(r'<form id="oauth" method="post" action="([^"]+)"', page.text)
    assert action is not None
    data = {"oauth_state": oauth_state(page), "username": "alice", "password": PASSWORD, **form}
    return requests.post(action.group(1), data=data, allow_redirects=False, timeout=10)


def redirected(reply: requests.Response) -> Tuple[str, Dict[str, str]]:
    """Where a 302 points (without query) and its query parameters."""
    assert reply.status_code == 302, reply.text
    parts = urlsplit(reply.headers["Location"])
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


def token(emu: Emulator, **data: str) -> Json:
    """POST to oauth2/token (of the Online portal when ``online="yes"``) and return the JSON."""
    online = data.pop("online", "") == "yes"
    fields = {"client_id": CLIENT, "f": "json", **data}
    reply = requests.post(f"{rest(emu, online)}/oauth2/token", data=fields, timeout=10)
    assert reply.status_code == 200
    body: Json = reply.json()
    return body


def code_for(emu: Emulator, **extra: str) -> str:
    """Run the browser part of the flow and return the authorization code."""
    _, query = redirected(sign_in(emu, authorize(emu, **extra)))
    return query["code"]


def redeem(emu: Emulator, code: str, verifier: Optional[str] = VERIFIER) -> Json:
    """Swap an authorization code for tokens."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": LOOPBACK}
    if verifier is not None:
        data["code_verifier"] = verifier
    return token(emu, **data)


def error_of(body: Json) -> Tuple[int, str]:
    """(code, message) of an error envelope."""
    return int(body["error"]["code"]), str(body["error"]["message"])


def who(emu: Emulator, access_token: str) -> Json:
    """community/self with the token in the X-Esri-Authorization header."""
    headers = {"X-Esri-Authorization": f"Bearer {access_token}"}
    url = f"{rest(emu)}/community/self"
    body: Json = requests.get(url, params={"f": "json"}, headers=headers, timeout=10).json()
    return body


# -- the browser part ------------------------------------------------------------------------


def test_authorize_serves_a_sign_in_page(emu: Emulator) -> None:
    page = authorize(emu)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "'" not in page.text and page.text.isascii()
    assert re.search(r'<input type="password" name="password"', page.text)
    assert oauth_state(page)


def test_sign_in_redirects_to_the_loopback_app_with_code_and_state(emu: Emulator) -> None:
    where, query = redirected(sign_in(emu, authorize(emu)))
    assert where == LOOPBACK
    assert set(query) == {"code", "state"} and query["state"] == "st4te"


def test_any_loopback_port_is_allowed_but_not_other_hosts(emu: Emulator) -> None:
    assert authorize(emu, redirect_uri="http://127.0.0.1:1234/").status_code == 200
    assert authorize(emu, redirect_uri="http://localhost:9/x").status_code == 200
    for bad in ("http://evil.example:80/", "https://127.0.0.1:443/", "http://127.0.0.2:5/"):
        page = authorize(emu, redirect_uri=bad)
        assert page.status_code == 400 and "Location" not in page.headers
        assert "Invalid redirect_uri" in page.text


def test_registered_redirects_only_for_an_app_that_lists_them(emu: Emulator) -> None:
    ok = authorize(emu, client_id="webapp", redirect_uri="https://app.example/callback")
    assert ok.status_code == 200
    assert authorize(emu, client_id="webapp", redirect_uri=LOOPBACK).status_code == 400


def test_unknown_app_is_an_error_page_or_json(emu: Emulator) -> None:
    page = authorize(emu, client_id="nobody")
    assert page.status_code == 400 and "Invalid client_id" in page.text
    body = authorize(emu, client_id="nobody", f="json").json()
    assert body["error"]["error"] == "invalid_request"
    assert error_of(body) == (400, "Invalid client_id")


def test_unsupported_response_type_goes_back_to_the_app(emu: Emulator) -> None:
    reply = requests.get(
        f"{rest(emu)}/oauth2/authorize",
        params={"client_id": CLIENT, "response_type": "id_token", "redirect_uri": LOOPBACK},
        allow_redirects=False,
        timeout=10,
    )
    where, query = redirected(reply)
    assert where == LOOPBACK and query == {"error": "unsupported_response_type"}


def test_wrong_password_shows_the_form_again_and_counts(emu: Emulator) -> None:
    page = authorize(emu)
    again = sign_in(emu, page, password="nope")
    assert again.status_code == 200 and "Invalid username or password." in again.text
    assert emu.failed_logins("alice") == 1
    where, query = redirected(sign_in(emu, again))
    assert where == LOOPBACK and "code" in query


def test_cancel_tells_the_app_access_denied(emu: Emulator) -> None:
    where, query = redirected(sign_in(emu, authorize(emu), cancel="true"))
    assert where == LOOPBACK
    assert query["error"] == "access_denied" and query["state"] == "st4te"


def test_a_used_sign_in_page_cannot_be_replayed(emu: Emulator) -> None:
    page = authorize(emu)
    redirected(sign_in(emu, page))
    stale = sign_in(emu, page)
    assert stale.status_code == 400 and "oauth_state" in stale.text


def test_out_of_band_shows_the_code_on_a_page(emu: Emulator) -> None:
    page = authorize(emu, redirect_uri=OOB)
    where, query = redirected(sign_in(emu, page))
    assert where.endswith("/sharing/rest/oauth2/approval")
    shown = requests.get(f"{where}?code={query['code']}", timeout=10)
    title = re.search(r"<title>SUCCESS code=([^<]+)</title>", shown.text)
    assert title is not None and title.group(1) == query["code"]
    data = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": OOB}
    body = token(emu, code_verifier=VERIFIER, **data)
    assert who(emu, body["access_token"])["username"] == "alice"


# -- the token endpoint ----------------------------------------------------------------------


def test_code_for_tokens_like_real_arcgis(emu: Emulator) -> None:
    body = redeem(emu, code_for(emu))
    assert set(body) == {
        "access_token",
        "expires_in",
        "username",
        "ssl",
        "refresh_token",
        "refresh_token_expires_in",
    }
    assert body["expires_in"] == 1800 and body["refresh_token_expires_in"] == 7200
    assert body["username"] == "alice" and body["ssl"] is False
    assert who(emu, body["access_token"])["username"] == "alice"


def test_pkce_verifier_is_checked_and_a_code_works_once(emu: Emulator) -> None:
    assert error_of(redeem(emu, code_for(emu), "wrong")) == (400, "Invalid code_verifier")
    assert error_of(redeem(emu, code_for(emu), None)) == (400, "Invalid code_verifier")
    code = code_for(emu)
    assert "access_token" in redeem(emu, code)
    assert error_of(redeem(emu, code)) == (400, "Invalid authorization code")


def test_plain_challenge_and_no_challenge(emu: Emulator) -> None:
    plain = code_for(emu, code_challenge=VERIFIER, code_challenge_method="plain")
    assert "access_token" in redeem(emu, plain)
    bare = code_for(emu, code_challenge="", code_challenge_method="")
    assert "access_token" in redeem(emu, bare, None)


def test_redirect_uri_must_match_the_authorize_request(emu: Emulator) -> None:
    code = code_for(emu)
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
    body = token(emu, redirect_uri="http://127.0.0.1:1/other", **data)
    assert error_of(body) == (400, "Invalid redirect_uri")


def test_code_expires_on_the_clock(emu: Emulator, clock: ManualClock) -> None:
    code = code_for(emu)
    clock.advance(601)
    assert error_of(redeem(emu, code)) == (400, "Invalid authorization code")


def test_code_belongs_to_its_portal(emu: Emulator) -> None:
    data = {"grant_type": "authorization_code", "code": code_for(emu), "redirect_uri": LOOPBACK}
    body = token(emu, online="yes", code_verifier=VERIFIER, **data)
    assert error_of(body) == (400, "Invalid authorization code")


def test_refresh_token_gives_access_tokens_until_it_expires(
    emu: Emulator, clock: ManualClock
) -> None:
    first = redeem(emu, code_for(emu))
    clock.advance(1801)
    assert error_code_of_self(emu, first["access_token"]) == 498
    again = token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert set(again) == {"access_token", "expires_in", "username", "ssl"}
    assert who(emu, again["access_token"])["username"] == "alice"
    clock.advance(7200)
    late = token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert error_of(late) == (498, "refresh_token expired")


def test_access_token_never_outlives_its_refresh_token(emu: Emulator, clock: ManualClock) -> None:
    first = redeem(emu, code_for(emu))
    clock.advance(7000)
    again = token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again["expires_in"] == 200


def test_expiration_on_authorize_shortens_the_refresh_token(emu: Emulator) -> None:
    body = redeem(emu, code_for(emu, expiration="30"))
    assert body["refresh_token_expires_in"] == 1800
    assert redeem(emu, code_for(emu, expiration="-1"))["refresh_token_expires_in"] == 7200


def test_exchange_refresh_token_rotates_it(emu: Emulator, clock: ManualClock) -> None:
    first = redeem(emu, code_for(emu))
    clock.advance(3600)
    swap = {"grant_type": "exchange_refresh_token", "redirect_uri": LOOPBACK}
    fresh = token(emu, refresh_token=first["refresh_token"], **swap)
    assert fresh["refresh_token"] != first["refresh_token"]
    assert fresh["refresh_token_expires_in"] == 7200
    assert who(emu, fresh["access_token"])["username"] == "alice"
    old = token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert error_of(old) == (498, "Invalid refresh_token")
    clock.advance(5000)
    assert "access_token" in token(
        emu, grant_type="refresh_token", refresh_token=fresh["refresh_token"]
    )


def test_exchange_needs_an_allowed_redirect_uri(emu: Emulator) -> None:
    first = redeem(emu, code_for(emu))
    swap = {"grant_type": "exchange_refresh_token", "refresh_token": first["refresh_token"]}
    assert error_of(token(emu, **swap)) == (400, "Invalid redirect_uri")
    assert "refresh_token" in token(emu, redirect_uri="http://127.0.0.1:9/", **swap)


def test_refresh_token_belongs_to_its_app_and_can_be_revoked(emu: Emulator) -> None:
    first = redeem(emu, code_for(emu))
    other = token(
        emu, client_id="webapp", grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert error_of(other) == (498, "Invalid refresh_token")
    emu.revoke(first["refresh_token"])
    gone = token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert error_of(gone) == (498, "Invalid refresh_token")


def test_token_endpoint_refusals(emu: Emulator) -> None:
    assert error_of(token(emu, grant_type="password")) == (400, "Invalid grant_type")
    body = token(emu, client_id="nobody", grant_type="refresh_token", refresh_token="x")
    assert body["error"]["error"] == "invalid_client_id"


def test_online_portal_offers_the_same_flow(emu: Emulator) -> None:
    params = {"client_id": CLIENT, "response_type": "code", "redirect_uri": OOB}
    page = requests.get(f"{rest(emu, True)}/oauth2/authorize", params=params, timeout=10)
    _, query = redirected(sign_in(emu, page))
    data = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": OOB}
    body = token(emu, online="yes", **data)
    headers = {"X-Esri-Authorization": f"Bearer {body['access_token']}"}
    hosted = requests.get(emu.online_service_url, params={"f": "json"}, headers=headers, timeout=10)
    assert hosted.json()["user"] == "alice"


def error_code_of_self(emu: Emulator, access_token: str) -> Optional[int]:
    """The error code community/self answers with, or None."""
    error = who(emu, access_token).get("error")
    return int(error["code"]) if isinstance(error, dict) else None


# -- Esri's built-in apps and the implicit grant -----------------------------------------------


def test_builtin_app_implicit_grant_on_the_out_of_band_page(emu: Emulator) -> None:
    params = {
        "client_id": "pythonapi",
        "response_type": "token",
        "redirect_uri": OOB,
        "state": "s1",
        "expiration": "60",
    }
    page = requests.get(f"{emu.portal_url}/sharing/oauth2/authorize", params=params, timeout=10)
    assert re.search(r'action="[^"]*/portal/sharing/oauth2/signin"', page.text)
    reply = sign_in(emu, page)
    assert reply.status_code == 302
    where, _, fragment = reply.headers["Location"].partition("#")
    assert where.endswith("/sharing/rest/oauth2/approval")
    values = {k: v[-1] for k, v in parse_qs(fragment).items()}
    assert values["expires_in"] == "3600" and values["state"] == "s1"
    assert values["username"] == "alice" and values["ssl"] == "false"
    assert who(emu, values["access_token"])["username"] == "alice"


def test_builtin_apps_take_no_client_credentials(emu: Emulator) -> None:
    body = token(emu, client_id="pythonapi", grant_type="client_credentials", client_secret="")
    assert body["error"]["error"] == "invalid_client_id"
    page = authorize(emu, client_id="arcgisonline", redirect_uri="https://127.0.0.1:1")
    assert page.status_code == 400 and "Error: Invalid redirect_uri" in page.text


def test_revoke_token_ends_a_refresh_token_and_an_access_token(emu: Emulator) -> None:
    first = redeem(emu, code_for(emu))
    url = f"{rest(emu)}/oauth2/revokeToken/"
    for value in (first["refresh_token"], first["access_token"]):
        form = {"client_id": CLIENT, "auth_token": value, "f": "json"}
        assert requests.post(url, data=form, timeout=10).json() == {"success": True}
    gone = token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert error_of(gone) == (498, "Invalid refresh_token")
    assert error_code_of_self(emu, first["access_token"]) == 498
    nobody = {"client_id": "nobody", "auth_token": "x", "f": "json"}
    assert requests.post(url, data=nobody, timeout=10).json()["error"]["code"] == 400
