"""``arctoken token`` and ``login`` with a client certificate (PKI) or a Windows login (IWA).

Real tokens from the emulator behind tests/webtier_server.py: a web tier that requires a
client certificate over real TLS, or a real NTLM handshake checked by pyspnego's acceptor.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import keyring
import pytest
import requests
import trustme

from arctoken_core.connection import Connection
from arctoken_emulator import Emulator
from tests.conftest import ALICE, assert_no_secret
from tests.profile_support import keyring_folder, plain_files
from tests.support import TLSFiles, one_error_line, run_cli
from tests.test_pki import PFX_PASSWORD, _pem_files, _pfx
from tests.test_toolbox_webtier import client_ca, iwa_front_fixture
from tests.webtier_server import WINDOWS_PASSWORD, WINDOWS_USER, WebTier, pki_front

__all__ = ["client_ca", "iwa_front_fixture", "keyring_folder"]  # fixtures, for pytest


@pytest.fixture(name="pki")
def pki_fixture(emu: Emulator, tls: TLSFiles, client_ca: trustme.CA) -> Iterator[WebTier]:
    """A PKI web tier in front of the emulator's portal (bob's certificate is alice)."""
    server = pki_front(emu.portal_url, str(tls.cert_file), client_ca.cert_pem.bytes())
    yield server
    server.stop()


def _pki_args(front: WebTier, tls: TLSFiles, *files: Path) -> List[str]:
    args = ["--kind", "pki", "--url", front.url("/portal"), "--ca-bundle", str(tls.ca_file)]
    args += ["--cert-file", str(files[0])]
    return args + (["--key-file", str(files[1])] if len(files) > 1 else [])


def _is_alices(emu: Emulator, doc: Dict[str, Any]) -> None:
    """The printed token opens the portal as alice (sent straight to the emulator)."""
    headers = {"X-Esri-Authorization": f"Bearer {doc['token']}", "Referer": doc["referer"]}
    url = f"{emu.portal_url}/sharing/rest/community/self"
    assert requests.get(url, params={"f": "json"}, headers=headers).json()["username"] == ALICE


def test_a_pem_certificate_gets_a_token(
    emu: Emulator, pki: WebTier, tls: TLSFiles, client_ca: trustme.CA, tmp_path: Path
) -> None:
    cert, key = _pem_files(client_ca, tmp_path)
    code, out, err = run_cli(["token", *_pki_args(pki, tls, cert, key), "--json"])
    assert code == 0, err
    _is_alices(emu, json.loads(out))
    assert pki.seen and all(s.user == "bob" for s in pki.seen)
    assert "bob.pem" not in out


@pytest.mark.parametrize("channel", ["stdin", "environment"])
def test_a_pfx_password_comes_through_the_secret_channel(
    emu: Emulator,
    pki: WebTier,
    tls: TLSFiles,
    client_ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    channel: str,
) -> None:
    args = ["token", *_pki_args(pki, tls, _pfx(client_ca, tmp_path)), "--json", "--verbose"]
    if channel == "stdin":
        code, out, err = run_cli([*args, "--password-stdin"], stdin=PFX_PASSWORD + "\n")
    else:
        monkeypatch.setenv("ARCTOKEN_PASSWORD", PFX_PASSWORD)
        code, out, err = run_cli(args)
    assert code == 0, err
    _is_alices(emu, json.loads(out))
    assert PFX_PASSWORD not in out + err
    assert_no_secret(err)


def test_a_wrong_pfx_password_is_one_line_naming_the_channel(
    pki: WebTier, tls: TLSFiles, client_ca: trustme.CA, tmp_path: Path
) -> None:
    args = ["token", *_pki_args(pki, tls, _pfx(client_ca, tmp_path)), "--password-stdin"]
    code, out, err = run_cli(args, stdin="not-the-Pa55word\n")
    assert code == 2 and out == "" and one_error_line(err)
    assert "certificate password (give it with --password-stdin" in err
    assert "not-the-Pa55word" not in err and pki.seen == []


@pytest.mark.parametrize("name", ["missing.pem", "folder.pfx"])
def test_a_missing_or_unreadable_certificate_names_cert_file(
    tls: TLSFiles, tmp_path: Path, name: str
) -> None:
    (tmp_path / "folder.pfx").mkdir()
    url = "https://127.0.0.1:1/portal"
    args = ["token", "--kind", "pki", "--url", url, "--cert-file", str(tmp_path / name)]
    code, out, err = run_cli([*args, "--password-stdin"], stdin="pw-for-the-folder\n")
    assert code == 2 and out == "" and one_error_line(err)
    assert err.startswith("arctoken: error: --cert-file: ") and "cannot be read" in err


def test_a_mistyped_certificate_is_named_before_any_password_is_asked(tmp_path: Path) -> None:
    """No password at hand (no stdin, no variable): the missing file is still what is said."""
    pem = tmp_path / "me.pem"
    pem.write_text("not read: the key file is wrong first\n")
    url = "https://127.0.0.1:1/portal"
    for flags, named in (
        (["--cert-file", str(tmp_path / "me.pfx")], "--cert-file"),
        (["--cert-file", str(pem), "--key-file", str(tmp_path / "me.key")], "--key-file"),
    ):
        code, out, err = run_cli(["token", "--kind", "pki", "--url", url, *flags], stdin="")
        assert code == 2 and out == "" and one_error_line(err)
        assert err.startswith(f"arctoken: error: {named}: cannot be read"), err


def test_a_certificate_password_is_never_a_flag(tmp_path: Path) -> None:
    args = ["token", "--kind", "pki", "--url", "https://gis.example.com/portal"]
    code, out, err = run_cli([*args, "--cert-file", "me.pfx", "--cert-password", "s3cret-Pa55"])
    assert code == 2 and out == "" and one_error_line(err)
    assert "--cert-password" in err and "--password-stdin" in err and "s3cret-Pa55" not in err


def test_the_windows_logon_gets_a_token(emu: Emulator, iwa_front: WebTier) -> None:
    url = iwa_front.url("/portal")
    code, out, err = run_cli(["token", "--kind", "iwa", "--url", url, "--json"])
    assert code == 0, err
    _is_alices(emu, json.loads(out))
    assert iwa_front.handshakes >= 1
    assert {s.user for s in iwa_front.seen if s.user} == {WINDOWS_USER}


def test_a_windows_account_and_its_password_get_a_token(emu: Emulator, iwa_front: WebTier) -> None:
    args = ["token", "--kind", "iwa", "--url", iwa_front.url("/portal"), "--json"]
    code, out, err = run_cli(
        [*args, "--username", WINDOWS_USER, "--password-stdin"], stdin=WINDOWS_PASSWORD + "\n"
    )
    assert code == 0, err
    _is_alices(emu, json.loads(out))
    assert WINDOWS_PASSWORD not in out + err


def test_windows_sign_in_without_pyspnego_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "spnego", None)
    code, out, err = run_cli(["token", "--kind", "iwa", "--url", "https://gis.example.com/portal"])
    assert code == 2 and out == "" and one_error_line(err)
    assert "pip install pyspnego" in err


def test_a_pki_profile_keeps_the_paths_in_the_file_and_the_password_in_the_keyring(
    emu: Emulator,
    pki: WebTier,
    tls: TLSFiles,
    client_ca: trustme.CA,
    tmp_path: Path,
    keyring_folder: Path,
) -> None:
    pfx = _pfx(client_ca, tmp_path)
    args = ["login", "--profile", "card", *_pki_args(pki, tls, pfx), "--password-stdin"]
    code, out, err = run_cli(args, stdin=PFX_PASSWORD + "\n")
    assert code == 0, err
    saved = json.loads(plain_files(keyring_folder))["profiles"]["card"]
    assert saved["cert_file"] == str(pfx) and saved["secrets"] == ["cert_password"]
    assert PFX_PASSWORD not in out + err + plain_files(keyring_folder)
    assert keyring.get_password("arctoken:card", "cert_password") == PFX_PASSWORD
    conn = Connection(profile="card")  # a script: no certificate password in it
    assert conn.request_json("GET", pki.url("/portal/sharing/rest/portals/self"))["user"]
    assert run_cli(["profiles"])[1].startswith(f"card\tpki\t{pki.url('/portal')}")
