"""What the token cache trusts: only its user's private files, and only the secret that
obtained a token (a salted slow hash in each entry, never the secret itself).

Real emulator sign-ins on loopback; files on a real disk (owners and modes are the point).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import List

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import AuthenticationError
from arctoken_core.files import not_private
from arctoken_core.tokens.cache import TokenCache, cache_key
from arctoken_core.tokens.token import Token
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD
from tests.support import connect

pytestmark = pytest.mark.timeout(60)

WRONG = "Wrong-Pa55-word"


def _conn(emu: Emulator, clock: ManualClock, folder: Path, password: str) -> Connection:
    return connect(
        "server", emu.server_url, clock, cache=True, cache_dir=str(folder), password=password
    )


def test_a_wrong_password_is_not_served_the_right_passwords_cached_token(
    emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    right = _conn(emu, clock, tmp_path, ALICE_PASSWORD).token()
    with pytest.raises(AuthenticationError):  # the server's verdict, not "signed in"
        _conn(emu, clock, tmp_path, WRONG).token()
    assert emu.failed_logins(ALICE) == 1
    assert _conn(emu, clock, tmp_path, ALICE_PASSWORD).token() == right  # still cached
    assert len(emu.token_requests()) == 2


def test_a_refusal_blocks_the_same_password_only(
    emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    with pytest.raises(AuthenticationError):
        _conn(emu, clock, tmp_path, WRONG).token()
    with pytest.raises(AuthenticationError, match="another process"):  # the same typo: held
        _conn(emu, clock, tmp_path, WRONG).token()
    assert emu.failed_logins(ALICE) == 1
    assert _conn(emu, clock, tmp_path, ALICE_PASSWORD).token()  # corrected: not held back
    with pytest.raises(AuthenticationError, match="another process"):  # the typo still is
        _conn(emu, clock, tmp_path, WRONG).token()
    assert len(emu.token_requests()) == 2  # one refused sign-in, one good one


def test_an_entry_holds_a_salted_slow_hash_of_the_secret_never_the_secret(
    emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    _conn(emu, clock, tmp_path, ALICE_PASSWORD).token()
    (path,) = tmp_path.glob("*.json")
    text = path.read_text()
    assert ALICE_PASSWORD not in text
    secret = json.loads(text)["secret"]
    assert secret["kdf"].startswith("pbkdf2-sha256-") and len(bytes.fromhex(secret["salt"])) >= 16
    salt = bytes.fromhex(secret["salt"])
    assert secret["hash"] != hashlib.sha256(ALICE_PASSWORD.encode()).hexdigest()
    assert (
        secret["hash"]
        == hashlib.pbkdf2_hmac("sha256", ALICE_PASSWORD.encode(), salt, 200_000).hex()
    )


def test_a_cache_file_others_may_read_is_not_used(
    emu: Emulator, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = _conn(emu, clock, tmp_path, ALICE_PASSWORD).token()
    (path,) = tmp_path.glob("*.json")
    path.chmod(0o644)
    caplog.set_level(logging.WARNING)
    assert _conn(emu, clock, tmp_path, ALICE_PASSWORD).token() != first  # signed in instead
    assert "other users may read or write it" in caplog.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # and the replacement is private


def _foreign_folder(tmp_path: Path) -> Path:
    """A world-writable folder owned by another user."""
    if os.getuid() == 0:
        folder = tmp_path / "planted"
        folder.mkdir()
        os.chown(folder, 65534, 65534)
        folder.chmod(0o777)
        return folder
    shared = Path(tempfile.gettempdir())  # the system's shared temporary folder (root's)
    assert shared.stat().st_uid != os.getuid(), "no folder of another user to test with"
    return shared


def test_a_folder_of_another_user_is_not_used_and_the_run_goes_on(
    emu: Emulator, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _foreign_folder(tmp_path)
    caplog.set_level(logging.WARNING)
    before = set(folder.iterdir())
    conn = _conn(emu, clock, folder, ALICE_PASSWORD)
    assert conn.token() and conn.token()
    assert "not using the token cache folder" in caplog.text
    assert set(folder.iterdir()) == before  # nothing written there, no lock taken there


def test_a_file_of_another_user_is_not_used(
    clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.getuid() != 0:  # only root can make a file another user owns; the rule itself:
        status = os.stat_result((0o100600, 0, 0, 1, os.getuid() + 1, 0, 0, 0, 0, 0))
        assert not_private(status) == "it belongs to another user"
        return
    cache, key = TokenCache(tmp_path), cache_key(["planted"])
    cache.write(key, Token("planted-token-" + "p" * 20, clock() + 600, clock()))
    os.chown(cache.path(key), 65534, 65534)
    caplog.set_level(logging.WARNING)
    assert cache.read(key) is None
    assert "belongs to another user" in caplog.text


@pytest.mark.parametrize(
    "mode, folder, problem",
    [
        (0o100600, False, None),
        (0o100640, False, "other users may read or write it"),
        (0o100604, False, "other users may read or write it"),
        (0o100620, False, "other users may read or write it"),
        (0o040700, True, None),
        (0o040755, True, None),  # others may look, not plant files
        (0o040770, True, "other users may write to it"),
        (0o041777, True, "other users may write to it"),
    ],
)
def test_which_modes_are_private(mode: int, folder: bool, problem: object) -> None:
    status = os.stat_result((mode, 0, 0, 1, os.getuid(), 0, 0, 0, 0, 0))
    assert not_private(status, folder=folder) == problem
    assert not_private(status, folder=folder, platform="win32") is None  # ACLs there


def test_the_hash_is_computed_once_per_connection(
    emu: Emulator, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: List[int] = []
    real = hashlib.pbkdf2_hmac

    def counting(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    writer = _conn(emu, clock, tmp_path, ALICE_PASSWORD)
    writer.token()
    reader = _conn(emu, clock, tmp_path, ALICE_PASSWORD)
    for _ in range(3):
        reader.token()
        clock.advance(600)  # each lifetime: a refresh, through the cache
    assert len(calls) == 2  # one per connection, however many reads and writes
