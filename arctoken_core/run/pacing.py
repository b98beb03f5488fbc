"""How a run waits, keeps time and notices that the user cancelled it.

ArcGIS Pro's Cancel button only sets ``arcpy.env.isCancelled`` once the tool has set
``arcpy.env.autoCancelling = False``; a run then looks at it whenever it waits, stops cleanly
(a GP job is cancelled on the server) and writes its outcome. Time limits follow a monotonic
timer, never the wall clock. Outside Pro nothing cancels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

from ..errors import ArcTokenError

__all__ = ["CancelCheck", "Pace", "RunCancelled", "Sleep", "TIMESLICE"]

Sleep = Callable[[float], object]
"""A ``time.sleep``-like callable (``ManualClock.advance`` in tests)."""

CancelCheck = Callable[[], bool]
"""True once the user has asked the run to stop (``arcpy.env.isCancelled`` in Pro)."""

TIMESLICE = 0.5
"""Longest wait between two looks at the cancel check, in seconds."""


class RunCancelled(ArcTokenError):
    """The user cancelled the run (ArcGIS Pro's Cancel button)."""

    exit_code = 130


@dataclass(frozen=True)
class Pace:
    """A run's sleep, its monotonic timer and its cancel check (None: nothing cancels).

    Tests give a ManualClock for both ``timer`` and ``sleep`` (its ``advance``).
    """

    sleep: Sleep = time.sleep
    timer: Callable[[], float] = time.monotonic
    cancelled: Optional[CancelCheck] = None

    def is_cancelled(self) -> bool:
        """True once the user has cancelled the run."""
        return self.cancelled is not None and bool(self.cancelled())

    def check(self) -> None:
        """Raise RunCancelled when the user has cancelled the run."""
        if self.is_cancelled():
            raise RunCancelled("cancelled by the user")

    def wait(self, seconds: float) -> None:
        """Wait ``seconds`` (looking at the cancel check every TIMESLICE s); RunCancelled."""
        left = max(0.0, float(seconds))
        self.check()
        while left > 0:
            step = min(left, TIMESLICE) if self.cancelled is not None else left
            self.sleep(step)
            left -= step
            self.check()

    def uncancellable(self) -> Pace:
        """The same pace without the cancel check: for cleaning up after a cancel."""
        return Pace(self.sleep, self.timer, None)
