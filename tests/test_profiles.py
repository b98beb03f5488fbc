"""Saved profiles: settings in an owner-only file, secrets in a real keyring backend."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import keyring
import pytest

from arctoken_core import profiles
from arctoken_core.cli.login import sign_in_and_save
from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import AuthenticationError, ConfigError
from arctoken_core.profiles.store import profiles_file
from arctoken_core.secrets import Secret
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.oauth_support import CLIENT, OAUTH_LIFETIME, REFRESH_LIFETIME, Browser, oauth_emu
from tests.profile_support import keyring_folder, plain_files

__all__ = ["keyring_folder", "oauth_emu"]  # fixtures, imported for pytest


def _save_portal(emu: Emulator, name: str = "work") -> None:
    profiles.save_profile(
        name,
        {"kind": "portal", "url": emu.portal_url, "username": ALICE, "referer": "myapp"},
        {"password": Secret(ALICE_PASSWORD)},
    )


def _save_oauth(emu: Emulator, name: str = "sso") -> None:
    profiles.save_profile(
        name, {"kind": "user_oauth", "url": emu.portal_url, "client_id": CLIENT}, {}
    )


def test_a_password_profile_signs_in_and_keeps_the_password_out_of_files(
    emu: Emulator, clock: ManualClock, keyring_folder: Path
) -> None:
    _save_portal(emu)
    conn = Connection(profile="work", clock=clock)
    assert (conn.kind, conn.url, conn.username, conn.referer) == (
        "portal",
        emu.portal_url,
        ALICE,
        "myapp",
    )
    assert conn.token_info().referer == "myapp"
    assert ALICE_PASSWORD not in plain_files(keyring_folder)
    assert keyring.get_password("arctoken:work", "password") == ALICE_PASSWORD
    if os.name == "posix":
        assert stat.S_IMODE(profiles_file().stat().st_mode) == 0o600
    assert conn.profile == "work" and "wonderland" not in repr(conn)


def test_arguments_given_win_over_the_profile(
    emu: Emulator, clock: ManualClock, keyring_folder: Path
) -> None:
    _save_portal(emu)
    conn = Connection(profile="work", clock=clock, referer="other", expiration=5)
    assert conn.referer == "other" and conn.expiration == 5


def test_a_missing_profile_says_how_to_create_it(keyring_folder: Path) -> None:
    with pytest.raises(ConfigError, match="arctoken login --profile nope") as err:
        Connection(profile="nope")
    assert err.value.field == "profile"
    with pytest.raises(ConfigError, match="cannot name a profile"):
        Connection(profile="../evil")


def test_without_keyring_saving_says_what_to_install(
    emu: Emulator, keyring_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if it were not installed
    with pytest.raises(ConfigError, match="pip install keyring") as err:
        _save_portal(emu)
    assert err.value.field == "keyring" and "\n" not in str(err.value)
    assert not profiles_file().exists()


@pytest.mark.parametrize("backend", ["plaintext", "null"])
def test_a_keyring_that_would_not_protect_the_secret_is_refused(
    emu: Emulator, keyring_folder: Path, backend: str
) -> None:
    """keyring's own pick on Linux without a Secret Service, once keyrings.alt is installed."""
    import keyring
    from keyring.backends.null import Keyring as NullKeyring
    from keyrings.alt.file import PlaintextKeyring

    plain = PlaintextKeyring()
    plain.file_path = str(keyring_folder / "user-data" / "keyring_pass.cfg")
    keyring.set_keyring(plain if backend == "plaintext" else NullKeyring())  # type: ignore[no-untyped-call]
    with pytest.raises(ConfigError, match="no secret is saved to it") as err:
        _save_portal(emu)
    assert err.value.field == "keyring" and "Secret Service" in str(err.value)
    assert "\n" not in str(err.value)
    assert not (keyring_folder / "user-data").exists() and not profiles_file().exists()


def test_a_secret_never_reaches_the_profiles_file(keyring_folder: Path) -> None:
    with pytest.raises(ConfigError, match="never saved in a plain file"):
        profiles.store.write_all({"x": {"kind": "portal", "password": "pw-in-a-file"}})
    assert not profiles_file().exists()


def test_logout_removes_the_profile_and_its_keyring_entries(
    emu: Emulator, keyring_folder: Path
) -> None:
    _save_portal(emu)
    assert profiles.delete_profile("work") is True
    assert keyring.get_password("arctoken:work", "password") is None
    assert profiles.list_profiles() == {}
    assert profiles.delete_profile("work") is False


def test_an_oauth_profile_signs_in_once_then_refreshes_and_rotates_from_the_keyring(
    oauth_emu: Emulator, clock: ManualClock, keyring_folder: Path
) -> None:
    _save_oauth(oauth_emu)
    browser = Browser()
    Connection(profile="sso", clock=clock, open_browser=browser).token()
    first = json.loads(keyring.get_password("arctoken:sso", "oauth") or "{}")
    assert first["expires_at"] == clock() + REFRESH_LIFETIME
    assert profiles.get_profile("sso")["username"] == ALICE
    assert first["refresh_token"] not in plain_files(keyring_folder)
    for _ in range(int(REFRESH_LIFETIME / OAUTH_LIFETIME)):  # a new process each time
        clock.advance(OAUTH_LIFETIME)
        Connection(profile="sso", clock=clock).token()
    rotated = json.loads(keyring.get_password("arctoken:sso", "oauth") or "{}")
    assert rotated["refresh_token"] != first["refresh_token"]
    assert len(browser.opened) == 1


def test_another_process_rotating_the_token_does_not_break_this_one(
    oauth_emu: Emulator, clock: ManualClock, keyring_folder: Path
) -> None:
    _save_oauth(oauth_emu)
    Connection(profile="sso", clock=clock, open_browser=Browser()).token()
    here, there = Connection(profile="sso", clock=clock), Connection(profile="sso", clock=clock)
    here.token()
    clock.advance(REFRESH_LIFETIME * 0.8)
    there.token()  # rotates: the refresh token "here" holds is now retired
    clock.advance(OAUTH_LIFETIME)
    assert here.request_json("GET", f"{oauth_emu.portal_url}/sharing/rest/community/self")


def test_an_oauth_profile_without_a_saved_sign_in_does_not_open_a_browser(
    oauth_emu: Emulator, clock: ManualClock, keyring_folder: Path
) -> None:
    _save_oauth(oauth_emu)
    with pytest.raises(AuthenticationError, match="arctoken login --profile sso"):
        Connection(profile="sso", clock=clock).token()
    assert oauth_emu.token_requests() == []


def test_a_failed_login_puts_the_earlier_profile_back(
    emu: Emulator, clock: ManualClock, keyring_folder: Path
) -> None:
    _save_portal(emu)
    options: Any = dict(kind="portal", url=emu.portal_url, username=ALICE, password="wrong-pw-1")
    with pytest.raises(AuthenticationError):
        sign_in_and_save("work", options, {})
    assert keyring.get_password("arctoken:work", "password") == ALICE_PASSWORD
    assert Connection(profile="work", clock=clock).token()
