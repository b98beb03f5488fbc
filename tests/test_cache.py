"""The shared token cache: files (pyfakefs) and real processes contending for one sign-in."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from pyfakefs.fake_filesystem import FakeFilesystem

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import AuthenticationError, ConfigError
from arctoken_core.tokens.cache import REFUSED_WINDOW, CachedProvider, TokenCache, cache_key
from arctoken_core.tokens.filelock import FileLock
from arctoken_core.tokens.token import Token
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD


class CountingProvider:
    audience = "https://gis.example.com/portal"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls = 0

    def fetch(self) -> Token:
        self.calls += 1
        now = self.clock()
        return Token(f"cached-token-{self.calls:04d}-abcdef", now + 600, now)


def test_file_is_owner_only_and_holds_no_password(fs: FakeFilesystem, clock: ManualClock) -> None:
    cache = TokenCache(Path("/home/u/cache"))
    provider = CachedProvider(CountingProvider(clock), cache, cache_key(["a", "b"]), clock)
    token = provider.fetch()
    path = cache.path(cache_key(["a", "b"]))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat("/home/u/cache").st_mode) == 0o700
    data = json.loads(Path(path).read_text())
    assert data["token"] == token.value and "password" not in json.dumps(data).lower()
    assert [p.name for p in Path("/home/u/cache").iterdir()] == [path.name]  # no temp, no lock


def test_second_process_reads_instead_of_signing_in(fs: FakeFilesystem, clock: ManualClock) -> None:
    cache = TokenCache(Path("/c"))
    first, second = CountingProvider(clock), CountingProvider(clock)
    key = cache_key(["k"])
    a = CachedProvider(first, cache, key, clock).fetch()
    b = CachedProvider(second, cache, key, clock).fetch()
    assert a == b and first.calls == 1 and second.calls == 0


def test_a_rejected_or_expiring_cached_token_is_not_reused(
    fs: FakeFilesystem, clock: ManualClock
) -> None:
    cache = TokenCache(Path("/c"))
    inner = CountingProvider(clock)
    provider = CachedProvider(inner, cache, cache_key(["k"]), clock)
    first = provider.fetch()
    assert provider.fetch() != first  # asked again = the last one was rejected
    clock.advance(600 - 30)  # inside the refresh window
    provider.fetch()
    assert inner.calls == 3


@pytest.mark.parametrize(
    "content", ["{not json", '{"version": 99}', '{"version": 1, "key": "x"}', ""]
)
def test_corrupt_or_foreign_file_is_ignored_and_replaced(
    fs: FakeFilesystem, clock: ManualClock, content: str
) -> None:
    cache = TokenCache(Path("/c"))
    key = cache_key(["k"])
    Path(cache.path(key)).write_text(content)
    inner = CountingProvider(clock)
    token = CachedProvider(inner, cache, key, clock).fetch()
    assert inner.calls == 1 and cache.read(key) == token


def test_abandoned_lock_is_broken(fs: FakeFilesystem, clock: ManualClock) -> None:
    cache = TokenCache(Path("/c"), stale_after=5)
    key = cache_key(["k"])
    lock = Path("/c") / f"{key}.lock"
    lock.write_text("999999 0")  # a process that no longer exists
    inner = CountingProvider(clock)
    assert CachedProvider(inner, cache, key, clock).fetch()
    assert not lock.exists()


def _worker(args: Dict[str, Any]) -> List[str]:
    conn = Connection(
        kind="server",
        url=args["url"],
        username=ALICE,
        password=ALICE_PASSWORD,
        cache=True,
        cache_dir=args["cache_dir"],
    )
    return [conn.token() for _ in range(5)]


def test_processes_share_one_sign_in(tmp_path: Path) -> None:
    with Emulator(users={ALICE: ALICE_PASSWORD}, token_lifetime=600) as emu:
        args = {"url": emu.server_url, "cache_dir": str(tmp_path / "cache")}
        context = multiprocessing.get_context("spawn")
        with context.Pool(4) as pool:
            tokens = pool.map(_worker, [args] * 8)
        assert len({t for batch in tokens for t in batch}) == 1
        assert len(emu.token_requests()) == 1


class RefusingProvider(CountingProvider):
    def fetch(self) -> Token:
        self.calls += 1
        raise AuthenticationError("refused")


def test_a_refused_sign_in_is_not_repeated_by_other_processes(
    fs: FakeFilesystem, clock: ManualClock
) -> None:
    cache = TokenCache(Path("/c"))
    key = cache_key(["k"])
    first, second = RefusingProvider(clock), RefusingProvider(clock)
    with pytest.raises(AuthenticationError):
        CachedProvider(first, cache, key, clock).fetch()
    with pytest.raises(AuthenticationError) as err:
        CachedProvider(second, cache, key, clock).fetch()
    assert first.calls == 1 and second.calls == 0
    assert "another process" in str(err.value)
    marker = Path("/c") / f"{key}.refused"
    assert "wonderland" not in marker.read_text()
    old = time.time() - REFUSED_WINDOW - 1
    os.utime(marker, (old, old))  # the window has passed: a person may try again
    fixed = CountingProvider(clock)
    assert CachedProvider(fixed, cache, key, clock).fetch() and fixed.calls == 1
    assert not marker.exists()


def _bad_worker(args: Dict[str, Any]) -> str:
    conn = Connection(
        kind="server",
        url=args["url"],
        username=ALICE,
        password="Wrong-Pa55",
        cache=True,
        cache_dir=args["cache_dir"],
    )
    try:
        conn.token()
    except AuthenticationError as exc:
        return type(exc).__name__
    return "signed in"


def test_workers_with_a_wrong_password_make_one_failed_sign_in(tmp_path: Path) -> None:
    with Emulator(users={ALICE: ALICE_PASSWORD}, lockout_threshold=3) as emu:
        args = {"url": emu.server_url, "cache_dir": str(tmp_path / "cache")}
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            outcomes = pool.map(_bad_worker, [args] * 8)
        assert outcomes == ["AuthenticationError"] * 8
        assert len(emu.token_requests()) == 1 and emu.failed_logins(ALICE) == 1


def test_a_held_lock_is_waited_for_and_not_broken(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "c", lock_wait=0.2)
    key = cache_key(["k"])
    lock = tmp_path / "c" / f"{key}.lock"
    holder = FileLock(lock, stale_after=300, wait=0)
    holder.acquire()  # a live holder (another open file: flock excludes it like a process)
    with pytest.raises(ConfigError, match="stayed taken"):
        with cache.lock(key):
            pass
    assert lock.exists() and holder.held
    holder.release()
    with cache.lock(key):
        assert lock.read_text() == f"{os.getpid()}\n"
    assert not lock.exists()


def test_only_the_owner_removes_its_lock(fs: FakeFilesystem) -> None:
    cache = TokenCache(Path("/c"))
    key = cache_key(["k"])
    lock = Path("/c") / f"{key}.lock"
    with cache.lock(key):
        assert lock.read_text() == f"{os.getpid()}\n"
        lock.unlink()  # our lock was broken and taken meanwhile: a new file
        lock.write_text("12345\n")
    assert lock.read_text() == "12345\n"


def test_an_unwritable_cache_does_not_lose_the_token(
    fs: FakeFilesystem, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Any, text: str) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("arctoken_core.tokens.cache.write_private", disk_full)
    inner = CountingProvider(clock)
    provider = CachedProvider(inner, TokenCache(Path("/c")), cache_key(["k"]), clock)
    assert provider.fetch().value.startswith("cached-token-0001")
    refusing = CachedProvider(RefusingProvider(clock), TokenCache(Path("/d")), "x", clock)
    with pytest.raises(AuthenticationError):  # the refusal, not the disk error
        refusing.fetch()


def test_a_cached_token_needs_no_discovery_either(tmp_path: Path) -> None:
    with Emulator(users={ALICE: ALICE_PASSWORD}, token_lifetime=600) as emu:

        def connect() -> Connection:
            return Connection(
                kind="portal",
                url=emu.portal_url,
                username=ALICE,
                password=ALICE_PASSWORD,
                cache=True,
                cache_dir=str(tmp_path / "cache"),
            )

        token = connect().token()
        emu.clear_requests()
        second = connect()
        assert second.token() == token
        assert emu.requests == []  # neither /sharing/rest/info nor generateToken
