"""A total deadline for one HTTP exchange, however slowly the reply drips in.

The read timeout bounds each socket read, so a server sending one byte a second keeps an
exchange alive forever. Each exchange gets a :class:`Deadline`; one shared watcher thread
shuts the connection's socket down when it passes, which ends the blocked read at once, and
no new connection is taken for it afterwards. The adapter then reports a timeout.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from typing import Any, List, Optional, Tuple

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import EmptyPoolError

__all__ = ["POOL_CLASSES", "Deadline"]

_local = threading.local()


class Deadline:
    """The deadline of the exchange running in this thread (a context manager)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.seconds = seconds
        self.passed = False
        self.done = False
        self.connection: Any = None

    def __enter__(self) -> Deadline:
        _local.deadline = self
        _WATCHER.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.done = True
        _local.deadline = None

    def expire(self) -> None:
        """Mark the deadline passed and cut the connection in use (called by the watcher)."""
        if self.done:
            return
        self.passed = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _current() -> Optional[Deadline]:
    return getattr(_local, "deadline", None)


_TIDY_AT = 64
"""Every so many watched deadlines (most of them long finished), the watcher drops the done."""


class _Watcher:
    """One daemon thread that expires deadlines in time order."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: List[Tuple[float, int, Deadline]] = []
        self._ids = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def add(self, deadline: Deadline) -> None:
        """Watch ``deadline``. The thread is woken only when it must wait less (the new
        deadline comes first) or has finished deadlines to drop: waking it for every
        exchange costs each request a thread switch."""
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._ids), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="deadline")
                self._thread.start()
            if self._heap[0][2] is deadline or len(self._heap) % _TIDY_AT == 0:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)[2].expire()


_WATCHER = _Watcher()


class _Tracked:
    """A pool mixin: the connection taken for an exchange is the one its deadline cuts."""

    def _get_conn(self, timeout: Optional[float] = None) -> Any:
        deadline = _current()
        if deadline is not None and deadline.passed:
            raise EmptyPoolError(self, "the exchange's total deadline has passed")  # type: ignore[arg-type]
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        if deadline is not None:
            deadline.connection = conn
        return conn


class _HTTPPool(_Tracked, HTTPConnectionPool):
    pass


class _HTTPSPool(_Tracked, HTTPSConnectionPool):
    pass


POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}
"""Pool classes for a PoolManager (or ProxyManager) whose exchanges keep their deadline."""
