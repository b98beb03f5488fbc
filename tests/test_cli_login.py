"""``arctoken login``, ``logout`` and ``profiles`` in-process, against the emulator."""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

import keyring
import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, assert_no_secret
from tests.oauth_support import CLIENT, Browser, oauth_emu
from tests.profile_support import keyring_folder, plain_files
from tests.support import run_cli

__all__ = ["keyring_folder", "oauth_emu"]  # fixtures, imported for pytest


def _login_portal(emu: Emulator, password: str = ALICE_PASSWORD) -> tuple[int, str, str]:
    args = ["login", "--profile", "work", "--kind", "portal", "--url", emu.portal_url]
    return run_cli([*args, "--username", ALICE, "--password-stdin"], stdin=password + "\n")


def test_login_then_profiles_then_logout(emu: Emulator, keyring_folder: Path) -> None:
    code, out, err = _login_portal(emu)
    assert code == 0, err
    assert "saved profile 'work'" in err and ALICE in err and out == ""
    code, out, err = run_cli(["profiles"])
    assert code == 0 and out == f"work\tportal\t{emu.portal_url}\t{ALICE}\n"
    assert ALICE_PASSWORD not in out + err + plain_files(keyring_folder)
    code, _, err = run_cli(["logout", "--profile", "work"])
    assert code == 0 and "removed profile 'work'" in err
    assert keyring.get_password("arctoken:work", "password") is None
    code, out, err = run_cli(["profiles"])
    assert code == 0 and out == "" and "no saved profiles" in err


def test_a_refused_login_saves_nothing(emu: Emulator, keyring_folder: Path) -> None:
    code, out, err = _login_portal(emu, password="not-her-password")
    assert code == 3 and out == "" and err.count("\n") == 1
    assert "refused" in err
    assert run_cli(["profiles"])[1] == ""
    assert keyring.get_password("arctoken:work", "password") is None


def test_login_with_oauth_in_the_browser_saves_the_refresh_token(
    oauth_emu: Emulator, clock: ManualClock, keyring_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = Browser()
    monkeypatch.setattr(webbrowser, "open", browser)
    args = ["login", "--profile", "sso", "--kind", "user_oauth", "--url", oauth_emu.portal_url]
    code, out, err = run_cli([*args, "--client-id", CLIENT])
    assert code == 0, err
    assert len(browser.opened) == 1 and "saved profile 'sso'" in err and ALICE in err
    assert keyring.get_password("arctoken:sso", "oauth")
    assert_no_secret(out + err + plain_files(keyring_folder))
    conn = Connection(profile="sso", clock=clock)  # a script: no password, no browser
    assert conn.request_json("GET", f"{oauth_emu.portal_url}/sharing/rest/community/self")
    assert len(browser.opened) == 1


def test_without_keyring_login_says_what_to_install(
    emu: Emulator, keyring_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    code, out, err = _login_portal(emu)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "pip install keyring" in err
    assert emu.token_requests() == []


def test_logout_of_an_unknown_profile_is_one_line(keyring_folder: Path) -> None:
    code, _, err = run_cli(["logout", "--profile", "nope"])
    assert code == 2 and err.count("\n") == 1 and "no saved profile 'nope'" in err


def test_token_signs_in_with_oauth_through_the_browser(
    oauth_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = Browser()
    monkeypatch.setattr(webbrowser, "open", browser)
    args = ["token", "--kind", "user_oauth", "--url", oauth_emu.portal_url, "--client-id", CLIENT]
    code, out, err = run_cli(args)
    assert code == 0, err
    assert len(browser.opened) == 1 and "token for" in err
    me = Connection(kind="apikey", url=oauth_emu.portal_url, api_key=out.strip())
    assert me.request_json("GET", f"{oauth_emu.portal_url}/sharing/rest/community/self")


def test_token_and_login_offer_the_kinds_of_the_table() -> None:
    from arctoken_core.cli.login import LOGIN_KINDS
    from arctoken_core.cli.token import CLI_KINDS
    from arctoken_core.kinds import KINDS

    assert LOGIN_KINDS == CLI_KINDS and set(CLI_KINDS) <= set(KINDS)
    assert "user_oauth" in CLI_KINDS and "pro" not in CLI_KINDS
    code, _, err = run_cli(["token", "--kind", "pro"])
    assert code == 2 and "invalid choice" in err
