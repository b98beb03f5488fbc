"""The emulator's notion of time: any ``time.time``-like callable (a test's manual clock too)."""

from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], float]
"""Returns epoch seconds. The emulator never sleeps on it, so a manual clock can drive it."""

system_clock: Clock = time.time
