"""Shared fixtures: the emulator, a movable clock, and a guard that no secret is ever logged."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Iterator, List

import pytest

from arctoken_core import secrets as secret_registry
from arctoken_core.clock import ManualClock
from arctoken_emulator import Emulator
from tests.support import ProxyProcess, RecordingServer, TLSFiles

ALICE = "alice"
ALICE_PASSWORD = "wonderland-Pa55!"
APP_ID = "app-id-123"
APP_SECRET = "app-secret-Sh0uldNotLeak"
API_KEY = "AAPK0123456789abcdefghijklmnopqrstuv"
LIFETIME = 600.0


def known_secrets() -> List[str]:
    """Every password, secret and token that entered the package during the run."""
    with secret_registry._known_lock:
        return sorted(secret_registry._known.union(secret_registry._recent_tokens))


def assert_no_secret(text: str) -> None:
    """Fail if ``text`` contains a password, a client secret or a whole token."""
    for value in known_secrets() + [ALICE_PASSWORD, APP_SECRET]:
        assert value not in text, "a secret leaked into user-visible text"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def no_secret_in_logs_or_warnings() -> Iterator[None]:
    """Every test runs with DEBUG logging on; afterwards no record or warning holds a secret."""
    collector = _Collect()
    root = logging.getLogger()
    watched = [logging.getLogger(n) for n in ("arctoken_core", "urllib3", "requests")]
    levels = [lg.level for lg in watched]
    root.addHandler(collector)
    for logger in watched:
        logger.setLevel(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    root.removeHandler(collector)
    for logger, level in zip(watched, levels):
        logger.setLevel(level)
    for line in collector.lines + [str(w.message) for w in caught]:
        assert_no_secret(line)


@pytest.fixture(autouse=True)
def private_cache_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default token cache folder (the toolbox uses it) is a fresh one for each test."""
    folder = tmp_path_factory.mktemp("cache-home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.setenv("LOCALAPPDATA", str(folder))


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[Emulator]:
    """The emulator on a movable clock, 10-minute tokens, one user, one app, one API key."""
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        token_lifetime=LIFETIME,
        clock=clock,
        apps={APP_ID: APP_SECRET},
        api_keys={API_KEY: None},
        gp_job_duration=3 * LIFETIME,
    ) as emulator:
        yield emulator


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    """A server that records requests (a host the token must not reach unless trusted)."""
    server = RecordingServer()
    yield server
    server.stop()


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    """A throwaway CA and a 127.0.0.1 certificate, written to files."""
    return TLSFiles(tmp_path)


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[ProxyProcess]:
    """A real proxy server process (proxy.py) without authentication."""
    process = ProxyProcess(tmp_path)
    yield process
    process.stop()


@pytest.fixture
def auth_proxy(tmp_path: Path) -> Iterator[ProxyProcess]:
    """A real proxy server process that demands Basic proxy credentials."""
    process = ProxyProcess(tmp_path, ("proxyuser", "proxy-Pa55"))
    yield process
    process.stop()
