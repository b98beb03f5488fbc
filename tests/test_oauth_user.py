"""OAuth 2.0 user sign-in (kind user_oauth): browser and out-of-band flows with PKCE, then
refresh tokens that keep access tokens valid and are rotated before they expire."""

from __future__ import annotations

import string
import threading
from dataclasses import replace
from typing import Any, List

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import AuthenticationError, ConfigError
from arctoken_core.secrets import Secret
from arctoken_core.signin import oauth_flow
from arctoken_core.signin.loopback import LoopbackReceiver
from arctoken_core.signin.pkce import challenge, new_state, new_verifier
from arctoken_core.tokens.oauth_grant import RefreshGrant, rotation_due
from arctoken_emulator import Emulator
from arctoken_emulator.grants import pkce_matches
from tests.oauth_support import (
    CLIENT,
    OAUTH_LIFETIME,
    REFRESH_LIFETIME,
    Browser,
    no_browser,
    oauth_emu,
    query_of,
    stray_visit,
)

__all__ = ["oauth_emu"]  # the fixture, imported for pytest


def _conn(emu: Emulator, clock: ManualClock, **extra: Any) -> Connection:
    return Connection(kind="user_oauth", url=emu.portal_url, client_id=CLIENT, clock=clock, **extra)


def _grants(emu: Emulator) -> List[str]:
    return [r.form.get("grant_type", "") for r in emu.token_requests()]


def _me(conn: Connection, emu: Emulator) -> Any:
    return conn.request_json("GET", f"{emu.portal_url}/sharing/rest/community/self")


def test_browser_sign_in_with_pkce_gets_a_token_the_portal_accepts(
    oauth_emu: Emulator, clock: ManualClock
) -> None:
    browser = Browser()
    conn = _conn(oauth_emu, clock, open_browser=browser)
    token = conn.token_info()
    assert token.audience == oauth_emu.portal_url
    assert token.expires_at == clock() + OAUTH_LIFETIME
    assert _me(conn, oauth_emu)["username"] == "alice"
    asked = query_of(browser.opened[0])
    assert asked["code_challenge_method"] == "S256" and asked["response_type"] == "code"
    assert asked["redirect_uri"].startswith("http://127.0.0.1:")
    assert "You can close this window" in browser.landed[0].text
    (redeem,) = [r for r in oauth_emu.token_requests() if r.form.get("code")]
    assert challenge(redeem.form["code_verifier"]) == asked["code_challenge"]
    assert redeem.form["redirect_uri"] == asked["redirect_uri"]


def test_the_refresh_token_keeps_tokens_fresh_and_is_rotated_before_it_expires(
    oauth_emu: Emulator, clock: ManualClock
) -> None:
    browser = Browser()
    conn = _conn(oauth_emu, clock, open_browser=browser)
    seen = set()
    for _ in range(int(3 * REFRESH_LIFETIME / OAUTH_LIFETIME)):  # three refresh-token lives
        seen.add(conn.token())
        assert _me(conn, oauth_emu)["username"] == "alice"
        clock.advance(OAUTH_LIFETIME - 10)
    grants = _grants(oauth_emu)
    assert len(browser.opened) == 1  # signed in once, in the browser, and never again
    assert grants[0] == "authorization_code"
    assert grants.count("exchange_refresh_token") >= 3
    assert set(grants[1:]) == {"refresh_token", "exchange_refresh_token"}
    assert len(seen) == len(grants) and conn.rejections == 0


def test_a_rotated_refresh_token_replaces_the_old_one(
    oauth_emu: Emulator, clock: ManualClock
) -> None:
    store_conn = _conn(oauth_emu, clock, open_browser=Browser())
    store_conn.token()
    provider: Any = store_conn.handler().provider
    first = provider._real.store.load()
    assert isinstance(first, RefreshGrant) and first.expires_at == clock() + REFRESH_LIFETIME
    clock.advance(REFRESH_LIFETIME * 0.8)
    store_conn.token()
    second = provider._real.store.load()
    assert second.token != first.token and second.expires_at == clock() + REFRESH_LIFETIME
    again = _conn(oauth_emu, clock, refresh_token=first.token)
    with pytest.raises(AuthenticationError, match="refused the refresh token"):
        again.token()


def test_out_of_band_sign_in_reads_the_pasted_code(oauth_emu: Emulator, clock: ManualClock) -> None:
    browser = Browser()
    conn = _conn(oauth_emu, clock, oauth_flow="oob", prompt=browser.paste)
    assert _me(conn, oauth_emu)["username"] == "alice"
    assert query_of(browser.opened[0])["redirect_uri"] == oauth_flow.OOB_REDIRECT
    (redeem,) = [r for r in oauth_emu.token_requests() if r.form.get("code")]
    assert redeem.form["redirect_uri"] == oauth_flow.OOB_REDIRECT


def test_a_cancelled_sign_in_is_refused_once_and_not_retried(
    oauth_emu: Emulator, clock: ManualClock
) -> None:
    browser = Browser(cancel=True)
    conn = _conn(oauth_emu, clock, open_browser=browser)
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="access_denied"):
            conn.token()
    assert len(browser.opened) == 1 and oauth_emu.token_requests() == []
    assert "not completed" in browser.landed[0].text


def test_a_revoked_refresh_token_is_refused_after_one_request(
    oauth_emu: Emulator, clock: ManualClock
) -> None:
    conn = _conn(oauth_emu, clock, open_browser=Browser())
    conn.token()
    provider: Any = conn.handler().provider
    oauth_emu.revoke(provider._real.store.load().token.reveal())
    oauth_emu.clear_requests()
    clock.advance(OAUTH_LIFETIME)
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="sign in again"):
            conn.token()
    assert _grants(oauth_emu) == ["refresh_token"]


def test_a_given_refresh_token_signs_in_without_a_browser(
    oauth_emu: Emulator, clock: ManualClock
) -> None:
    first = _conn(oauth_emu, clock, open_browser=Browser())
    first.token()
    provider: Any = first.handler().provider
    saved = provider._real.store.load().token
    later = _conn(oauth_emu, clock, refresh_token=saved.reveal(), open_browser=no_browser)
    assert _me(later, oauth_emu)["username"] == "alice"
    assert _grants(oauth_emu)[-1] == "refresh_token"


def test_oauth_tokens_open_a_federated_server(oauth_emu: Emulator, clock: ManualClock) -> None:
    conn = _conn(
        oauth_emu, clock, open_browser=Browser(), server_url=oauth_emu.federated_server_url
    )
    reply = conn.request_json("GET", oauth_emu.federated_service_url)
    assert "error" not in reply
    assert conn.token_info().audience == oauth_emu.federated_server_url


def test_the_loopback_server_ignores_redirects_of_other_sign_ins() -> None:
    state = new_state()
    with LoopbackReceiver(state) as receiver:
        assert receiver.redirect_uri.startswith("http://127.0.0.1:")
        assert stray_visit(receiver.redirect_uri, "another-state").status_code == 400
        assert receiver.wait(0.01) is None
        reply = stray_visit(receiver.redirect_uri, state, code="the-code")
        assert reply.status_code == 200 and "close this window" in reply.text
        assert receiver.wait(1.0) == {"code": "the-code", "state": state}
        assert stray_visit(receiver.redirect_uri, state).status_code == 400  # once only


def test_no_redirect_within_the_wait_is_a_clear_error() -> None:
    with pytest.raises(AuthenticationError, match="no sign-in arrived"):
        oauth_flow.browser_authorization("http://127.0.0.1:9/portal", CLIENT, no_browser, 0.05)


def test_the_browser_runs_while_the_loopback_server_listens() -> None:
    """A browser that opens in the background (as webbrowser.open does) also works."""

    def background(url: str) -> bool:
        query = query_of(url)
        visit = threading.Thread(
            target=stray_visit, args=(query["redirect_uri"], query["state"], "late-code")
        )
        visit.start()
        return True

    found = oauth_flow.browser_authorization("http://127.0.0.1:9/portal", CLIENT, background, 10)
    assert found.code == "late-code" and found.redirect_uri.startswith("http://127.0.0.1:")


def test_pkce_values_follow_rfc_7636() -> None:
    verifier = new_verifier()
    assert 43 <= len(verifier) <= 128 and verifier != new_verifier()
    assert set(verifier) <= set(string.ascii_letters + string.digits + "-._~")
    # checked against the emulator's own (independent) S256 implementation
    assert pkce_matches(challenge(verifier), "S256", verifier)
    assert not pkce_matches(challenge(verifier), "S256", new_verifier())
    assert "=" not in challenge(verifier) and len(challenge(verifier)) == 43


def test_rotation_is_due_in_the_last_quarter_only() -> None:
    grant = RefreshGrant(Secret("refresh-token-value"), 0.0, 1000.0, oauth_flow.OOB_REDIRECT)
    assert not rotation_due(grant, 749.0) and rotation_due(grant, 750.0)
    assert not rotation_due(replace(grant, expires_at=None), 10**9)


def test_a_bad_flow_name_is_a_config_error(oauth_emu: Emulator, clock: ManualClock) -> None:
    with pytest.raises(ConfigError) as err:
        _conn(oauth_emu, clock, oauth_flow="device")
    assert err.value.field == "oauth_flow"
    with pytest.raises(ConfigError) as err:
        Connection(kind="user_oauth", url=oauth_emu.portal_url)
    assert err.value.field == "client_id"
