"""``arctoken run --profile NAME -- COMMAND``: a fresh token in the environment and a token
file kept fresh while the command runs; the command's exit status; the file removed after."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from arctoken_core import profiles
from arctoken_core.cli.run_command import TokenFileKeeper
from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.secrets import Secret
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, LIFETIME
from tests.profile_support import keyring_folder
from tests.support import run_cli

__all__ = ["keyring_folder"]  # the fixture, imported for pytest

CHILD = """
import json, os, sys
path = os.environ["ARCGIS_TOKEN_FILE"]
with open(path) as f:
    document = json.load(f)
report = {
    "token": os.environ["ARCGIS_TOKEN"],
    "url": os.environ["ARCGIS_TOKEN_URL"],
    "referer": os.environ.get("ARCGIS_REFERER"),
    "file": path,
    "document": document,
    "mode": oct(os.stat(path).st_mode & 0o777),
}
with open(sys.argv[1], "w") as f:
    json.dump(report, f)
sys.exit(int(sys.argv[2]))
"""


@pytest.fixture
def live_emu() -> Iterator[Emulator]:
    """The emulator on the real clock (the CLI uses the real clock)."""
    with Emulator(users={ALICE: ALICE_PASSWORD}, token_lifetime=LIFETIME) as running:
        yield running


def _save(emu: Emulator) -> None:
    profiles.save_profile(
        "work",
        {"kind": "portal", "url": emu.portal_url, "username": ALICE, "referer": "myapp"},
        {"password": Secret(ALICE_PASSWORD)},
    )


def test_run_gives_the_command_a_token_and_its_exit_status(
    live_emu: Emulator, keyring_folder: Path, tmp_path: Path
) -> None:
    _save(live_emu)
    out = tmp_path / "report.json"
    code, stdout, err = run_cli(
        ["run", "--profile", "work", "--", sys.executable, "-c", CHILD, str(out), "7"]
    )
    assert code == 7, err
    report: Any = json.loads(out.read_text())
    assert report["url"] == live_emu.portal_url and report["referer"] == "myapp"
    assert report["document"]["token"] == report["token"]
    assert report["document"]["url"] == live_emu.portal_url
    if os.name == "posix":
        assert report["mode"] == "0o600"
    assert not Path(report["file"]).exists()  # removed when the command ended
    assert not Path(report["file"]).parent.exists()
    headers = {"X-Esri-Authorization": f"Bearer {report['token']}", "Referer": "myapp"}
    me = requests.get(
        f"{live_emu.portal_url}/sharing/rest/community/self",
        params={"f": "json"},
        headers=headers,
        timeout=10,
    )
    assert me.json()["username"] == ALICE  # the portal accepts the command's token


def test_run_without_a_command_or_profile_is_one_line(keyring_folder: Path) -> None:
    code, _, err = run_cli(["run", "--profile", "work"])
    assert code == 2 and err.count("\n") == 1 and "give the command after --" in err
    code, _, err = run_cli(["run", "--profile", "nope", "--", "true"])
    assert code == 2 and err.count("\n") == 1 and "arctoken login --profile nope" in err


def test_a_missing_program_is_one_line(live_emu: Emulator, keyring_folder: Path) -> None:
    _save(live_emu)
    code, _, err = run_cli(["run", "--profile", "work", "--", "no-such-program-arctoken"])
    assert code == 2 and err.count("\n") == 1 and "cannot run 'no-such-program-arctoken'" in err


def test_the_token_file_is_kept_fresh_over_several_lifetimes(
    emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    conn = Connection(
        kind="portal", url=emu.portal_url, username=ALICE, password=ALICE_PASSWORD, clock=clock
    )
    path = tmp_path / "token.json"
    keeper = TokenFileKeeper(conn, path, interval=0.01)
    seen = {keeper.write().value}
    keeper.start()
    try:
        for _ in range(4):
            clock.advance(LIFETIME)
            deadline = time.monotonic() + 20
            while json.loads(path.read_text())["token"] in seen:  # the keeper rewrites it
                assert time.monotonic() < deadline, "the token file was not renewed"
                time.sleep(0.01)
            document = json.loads(path.read_text())
            assert document["expires"] / 1000 > clock()
            seen.add(document["token"])
    finally:
        keeper.stop()
    assert len(seen) == 5 and keeper.writes == 5 and not path.exists()
