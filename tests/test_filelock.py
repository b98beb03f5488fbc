"""The file lock between processes: an OS lock, freed at once when its holder is killed.

Real processes and a real disk for POSIX (``fcntl.flock``). The Windows branch
(``msvcrt.locking``) runs here as far as Linux allows: the choice of mechanism with the
platform patched, and the calls it makes on a stand-in ``msvcrt`` module that records them
and keeps its own table of locked files.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from arctoken_core.tokens.filelock import FileLock, LockTimeout, os_lock, windows_lock
from tests.children import start_python

pytestmark = pytest.mark.timeout(60)

HOLD = """
import sys, time
from pathlib import Path
from arctoken_core.tokens.filelock import FileLock
FileLock(Path(sys.argv[1]), stale_after=1e9, wait=30).acquire()
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Tuple[subprocess.Popen[str], Path]]:
    """A process holding the lock on ``tmp_path/x.lock``; killed at the end if still alive."""
    path = tmp_path / "x.lock"
    process = start_python(HOLD, [str(path)], "locked")
    yield process, path
    if process.poll() is None:
        process.kill()
    process.wait(10)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_killed_holder_frees_the_lock_at_once(
    holder: Tuple[subprocess.Popen[str], Path],
) -> None:
    process, path = holder
    with pytest.raises(LockTimeout):  # alive: the lock really is taken
        FileLock(path, stale_after=1e9, wait=0.1).acquire()
    assert path.read_text() == f"{process.pid}\n"
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert path.exists()  # it died holding it, and never removed its file
    taker = FileLock(path, stale_after=1e9, wait=0)  # no staleness, no waiting: free now
    taker.acquire()
    assert taker.held and path.read_text() == f"{os.getpid()}\n"
    taker.release()
    assert not path.exists()


def test_two_locks_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    first = FileLock(tmp_path / "y.lock", stale_after=1e9, wait=0)
    first.acquire()
    with pytest.raises(LockTimeout):
        FileLock(tmp_path / "y.lock", stale_after=1e9, wait=0.05).acquire()
    first.release()
    FileLock(tmp_path / "y.lock", stale_after=1e9, wait=0).acquire()


def test_the_platform_picks_the_mechanism(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "msvcrt", FakeMsvcrt())
    monkeypatch.setattr(sys, "platform", "win32")
    assert os_lock().name == "msvcrt.locking"
    assert os_lock("linux").name == "fcntl.flock"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert os_lock().name == "fcntl.flock"


class FakeMsvcrt:
    """Stands in for Windows' ``msvcrt``: records each ``locking`` call (mode, byte count,
    file position) and refuses a second handle on a locked file as Windows does."""

    LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = 0, 1, 2, 3, 4

    def __init__(self) -> None:
        self.calls: List[Tuple[int, int, int]] = []
        self.locked: Dict[Tuple[int, int], int] = {}
        self.fail_with = 0

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        self.calls.append((mode, nbytes, os.lseek(fd, 0, os.SEEK_CUR)))
        if self.fail_with:
            raise OSError(self.fail_with, "failed")
        identity = (os.fstat(fd).st_dev, os.fstat(fd).st_ino)
        if mode == self.LK_NBLCK:
            if self.locked.get(identity, fd) != fd:
                raise OSError(errno.EACCES, "Permission denied")
            self.locked[identity] = fd
        elif mode == self.LK_UNLCK:
            assert self.locked.pop(identity) == fd, "unlocking a lock it does not hold"


def test_the_windows_lock_locks_byte_zero_and_a_second_taker_waits(tmp_path: Path) -> None:
    msvcrt = FakeMsvcrt()
    mechanism = windows_lock(msvcrt)
    path = tmp_path / "w.lock"
    first = FileLock(path, stale_after=1e9, wait=0, mechanism=mechanism)
    first.acquire()
    assert msvcrt.calls == [(msvcrt.LK_NBLCK, 1, 0)]
    with pytest.raises(LockTimeout):
        FileLock(path, stale_after=1e9, wait=0.05, mechanism=mechanism).acquire()
    assert set(msvcrt.calls[1:]) == {(msvcrt.LK_NBLCK, 1, 0)}  # each try at offset 0
    first.release()
    assert msvcrt.calls[-1] == (msvcrt.LK_UNLCK, 1, 0)  # back at 0 after writing the pid
    second = FileLock(path, stale_after=1e9, wait=0, mechanism=mechanism)
    second.acquire()
    assert second.held
    second.release()
    assert msvcrt.locked == {}


def test_a_windows_lock_error_other_than_held_is_not_taken_for_a_holder(tmp_path: Path) -> None:
    msvcrt = FakeMsvcrt()
    msvcrt.fail_with = errno.EBADF
    lock = FileLock(tmp_path / "e.lock", stale_after=1e9, wait=0, mechanism=windows_lock(msvcrt))
    with pytest.raises(OSError) as caught:
        lock.acquire()
    assert caught.value.errno == errno.EBADF and not lock.held


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_hung_holder_is_broken_once_stale_and_new_takers_share_the_new_file(
    holder: Tuple[subprocess.Popen[str], Path],
) -> None:
    process, path = holder
    process.send_signal(signal.SIGSTOP)
    old = path.stat().st_mtime - 1000
    os.utime(path, (old, old))
    taker = FileLock(path, stale_after=500, wait=5)
    taker.acquire()  # broke the hung holder's file and locked a new one
    assert path.read_text() == f"{os.getpid()}\n"
    with pytest.raises(LockTimeout):  # the new file is a real lock for everyone else
        FileLock(path, stale_after=500, wait=0.05).acquire()
    taker.release()
    process.send_signal(signal.SIGCONT)
