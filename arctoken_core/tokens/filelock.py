"""A lock between processes on a file, released by the operating system when its holder dies.

The lock is the OS's own: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows (each
imported only on its platform, when a lock is first taken). A holder that crashes or is
killed frees the lock at once, with no pid to check: a pid check cannot be done on Windows,
and there it used to make a dead holder block every other process for ``stale_after``.

The lock file is removed by its holder on release, while still holding it. A taker therefore
checks, once it holds the lock, that the path still names the file it locked; if not (the
holder removed it meanwhile, or a stale lock was broken) it starts again on the new file.
A holder that is alive but hung (stopped, deadlocked) keeps its OS lock; once its file is
older than ``stale_after`` it is broken by removing the path, so that new takers lock a new
file. Windows cannot remove a file that is open: there the lock file stays and is reused,
and a hung (not dead) holder blocks others until the taker's ``wait`` runs out.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from ..secrets import get_logger

__all__ = ["FileLock", "LockTimeout", "OsLock", "os_lock", "posix_lock", "windows_lock"]

log = get_logger(__name__)

POLL = 0.02
"""Seconds between two tries of a taken lock."""

_WINDOWS_HELD = frozenset({errno.EACCES, 36})
"""What ``msvcrt.locking`` says when another handle holds the byte (36: Windows' EDEADLOCK)."""


class LockTimeout(Exception):
    """The lock stayed taken for longer than the taker would wait."""


@dataclass(frozen=True)
class OsLock:
    """One platform's lock calls on an open file descriptor."""

    name: str
    try_lock: Callable[[int], bool]
    """Take the lock without waiting: True when taken, False when another holder has it."""
    unlock: Callable[[int], None]
    """Release a lock taken with ``try_lock``."""


def posix_lock(fcntl: Any) -> OsLock:
    """``flock`` (whole file, exclusive), the calls of the ``fcntl`` module given."""

    def try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    return OsLock("fcntl.flock", try_lock, unlock)


def windows_lock(msvcrt: Any) -> OsLock:
    """``msvcrt.locking`` of the file's first byte, the calls of the ``msvcrt`` module given.

    ``locking`` acts from the current position, so every call starts at offset 0.
    """

    def try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in _WINDOWS_HELD:
                return False
            raise
        return True

    def unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    return OsLock("msvcrt.locking", try_lock, unlock)


def os_lock(platform: Optional[str] = None) -> OsLock:
    """The lock of ``platform`` (default: this one), importing only that platform's module."""
    if (platform or sys.platform) == "win32":
        import msvcrt

        return windows_lock(msvcrt)
    import fcntl

    return posix_lock(fcntl)


class FileLock:
    """An exclusive lock on ``path`` between processes (and between FileLocks of one process).

    ``acquire`` waits up to ``wait`` seconds; ``release`` removes the file and unlocks.
    """

    def __init__(
        self, path: Path, stale_after: float, wait: float, mechanism: Optional[OsLock] = None
    ) -> None:
        self.path = Path(path)
        self.stale_after = stale_after
        self.wait = wait
        self.mechanism = mechanism or os_lock()
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        """True between a successful :meth:`acquire` and :meth:`release`."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock; LockTimeout after ``wait`` seconds, OSError if the folder fails."""
        deadline = time.monotonic() + self.wait
        while not self._try_once():
            if time.monotonic() > deadline:
                raise LockTimeout(self.path.name)
            time.sleep(POLL)

    def release(self) -> None:
        """Remove the lock file (while still holding it), then unlock; never raises OSError."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):  # Windows: not while another process has it open
            if _same_file(fd, self.path):
                self.path.unlink()
        with contextlib.suppress(OSError):
            self.mechanism.unlock(fd)
        os.close(fd)

    def forget(self) -> None:
        """Drop the lock without touching it (a forked child: the parent still holds it)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _try_once(self) -> bool:
        """One try: open (or create) the file, lock it, and check it is still the lock file."""
        fd = os.open(str(self.path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if self.mechanism.try_lock(fd):
                if _same_file(fd, self.path):
                    _write_owner(fd)
                    self._fd, fd = fd, -1
                    return True
                self.mechanism.unlock(fd)  # removed while we waited: try the new one at once
                return self._try_once()
            self._break_if_stale(fd)
            return False
        finally:
            if fd >= 0:
                os.close(fd)

    def _break_if_stale(self, fd: int) -> None:
        """Remove the path of a lock held for longer than ``stale_after`` (a hung holder)."""
        age = time.time() - os.fstat(fd).st_mtime
        if age > self.stale_after and _same_file(fd, self.path):
            log.warning("breaking a token cache lock held for %.0f s by a hung process", age)
            with contextlib.suppress(OSError):
                self.path.unlink()


def _same_file(fd: int, path: Path) -> bool:
    """True when ``path`` still names the file open as ``fd``."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(str(path)))
    except OSError:
        return False


def _write_owner(fd: int) -> None:
    """Put the holder's pid in the file (for people), which also dates the lock."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
