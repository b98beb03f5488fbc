"""The shared token cache with real processes: crashed and hung lock holders, torn writes,
and what ends up on disk.

tests/test_cache.py covers the file rules with a fake file system and 8 processes sharing
one sign-in; these add what only real processes and a real disk can show.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.tokens.cache import TokenCache, cache_key
from arctoken_core.tokens.token import Token
from arctoken_emulator import Emulator
from tests.children import start_python
from tests.conftest import ALICE, ALICE_PASSWORD, API_KEY, APP_SECRET, LIFETIME
from tests.support import connect

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

HOLD_LOCK = """
import sys, time
from pathlib import Path
from arctoken_core.tokens.cache import TokenCache
with TokenCache(Path(sys.argv[1])).lock(sys.argv[2]):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[List[subprocess.Popen[str]]]:
    """Processes started to hold a cache lock; any still running are killed at the end."""
    started: List[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _hold_lock(started: List[subprocess.Popen[str]], folder: Path, key: str) -> int:
    """Start a process that takes the sign-in lock of ``key`` and keeps it; its pid."""
    process = start_python(HOLD_LOCK, [str(folder), key], "locked")
    started.append(process)
    return process.pid


def _signed_in_once(emu: Emulator, clock: ManualClock, folder: Path) -> Tuple[Connection, str]:
    """A cached connection that signed in once; the key of its token file."""
    conn = connect("server", emu.server_url, clock, cache=True, cache_dir=str(folder))
    conn.token()
    (token_file,) = folder.glob("*.json")
    return conn, token_file.stem


def test_a_lock_whose_holder_was_killed_is_broken_at_once(
    emu: Emulator, clock: ManualClock, tmp_path: Path, lock_holder: List[subprocess.Popen[str]]
) -> None:
    folder = tmp_path / "cache"
    conn, key = _signed_in_once(emu, clock, folder)
    pid = _hold_lock(lock_holder, folder, key)
    os.kill(pid, signal.SIGKILL)  # it dies holding the lock
    lock_holder[0].wait(10)
    assert (folder / f"{key}.lock").exists()
    clock.advance(LIFETIME)  # the cached token expired: the next call needs the lock
    first = conn.token()
    assert first and len(emu.token_requests()) == 2
    assert not (folder / f"{key}.lock").exists()


def test_a_lock_held_by_a_hung_process_is_broken_once_stale(
    emu: Emulator, clock: ManualClock, tmp_path: Path, lock_holder: List[subprocess.Popen[str]]
) -> None:
    folder = tmp_path / "cache"
    conn, key = _signed_in_once(emu, clock, folder)
    pid = _hold_lock(lock_holder, folder, key)
    os.kill(pid, signal.SIGSTOP)  # alive, but it will never finish its sign-in
    lock = folder / f"{key}.lock"
    old = time.time() - 2 * TokenCache(folder).stale_after
    os.utime(lock, (old, old))  # as if it had hung for twice the stale limit
    clock.advance(LIFETIME)
    assert conn.token() and len(emu.token_requests()) == 2


CACHED_KINDS: Dict[str, Callable[[Emulator, ManualClock, str], Connection]] = {
    "online": lambda e, c, d: connect("online", e.online_url, c, cache=True, cache_dir=d),
    "portal": lambda e, c, d: connect("portal", e.portal_url, c, cache=True, cache_dir=d),
    "server": lambda e, c, d: connect("server", e.server_url, c, cache=True, cache_dir=d),
    "federated": lambda e, c, d: connect(
        "portal", e.portal_url, c, cache=True, cache_dir=d, server_url=e.federated_server_url
    ),
    "app": lambda e, c, d: connect("app", e.online_url, c, cache=True, cache_dir=d),
}


def test_the_cache_holds_one_owner_only_file_per_audience_and_never_a_secret(
    emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    for make in CACHED_KINDS.values():
        conn = make(emu, clock, str(folder))
        for _ in range(3):  # refreshes replace files; they do not add any
            conn.token()
            clock.advance(LIFETIME)
    files = sorted(folder.iterdir())
    # one per identity and audience: online, portal, server, federated server, app (the two
    # portal connections are the same user at the same portal, so they share one file)
    assert len(files) == 5
    for path in files:
        assert path.suffix == ".json" and len(path.stem) == 64 and int(path.stem, 16) >= 0
        assert ALICE not in path.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = path.read_bytes()
        for secret in (ALICE_PASSWORD, APP_SECRET, API_KEY):
            assert secret.encode() not in content
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def _write_many(folder: str, key: str, tag: str, count: int) -> None:
    cache = TokenCache(Path(folder))
    for number in range(count):
        value = f"{tag}-{number:06d}-" + "x" * (number % 997)  # sizes vary: tearing would show
        cache.write(key, Token(value, 2e9, 1e9))


def test_readers_never_see_a_half_written_file(tmp_path: Path) -> None:
    folder, key = tmp_path / "cache", cache_key(["torn"])
    cache = TokenCache(folder)
    cache.write(key, Token("start-token-000000", 2e9, 1e9))
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_many, args=(str(folder), key, f"w{n}", 400)) for n in range(2)
    ]
    for writer in writers:
        writer.start()
    seen = set()
    while any(w.is_alive() for w in writers):
        token = cache.read(key)
        assert token is not None, "a reader saw a missing or half-written file"
        seen.add(token.value.split("-")[0])
    for writer in writers:
        writer.join(30)
        assert writer.exitcode == 0
    assert seen & {"w0", "w1"}  # the reads really raced the writers
    assert sorted(p.name for p in folder.iterdir()) == [f"{key}.json"]  # no temporary left
