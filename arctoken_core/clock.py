"""One injectable notion of "now", shared by the handler, the cache and the emulator.

Tests and the offline demo move a :class:`ManualClock` instead of sleeping for a token to
expire; production code uses :func:`time.time`.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

Clock = Callable[[], float]
"""A ``time.time``-like callable: seconds since the epoch, as a float."""

system_clock: Clock = time.time


class ManualClock:
    """A clock that only moves when told to; safe to read and move from many threads."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        """Jump the clock to ``now`` (tests that need an absolute instant)."""
        with self._lock:
            self._now = float(now)
