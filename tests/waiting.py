"""Where a thread is: read from its live stack, so tests order events without sleeping."""

from __future__ import annotations

import sys
import threading
from typing import List


def blocked_in_wait(thread: threading.Thread) -> bool:
    """True when ``thread`` sleeps in an Event/Condition wait called from a handler's token().

    Read from the thread's live stack, so a test knows a thread has joined the sign-in in
    flight before letting it finish, instead of guessing with a sleep.
    """
    frame = sys._current_frames().get(thread.ident or -1)
    names: List[str] = []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return bool(names) and names[0] == "wait" and "token" in names


def until_blocked_in_wait(*threads: threading.Thread) -> None:
    """Return once every one of ``threads`` waits inside a handler's token() (see above)."""
    while not all(blocked_in_wait(t) for t in threads):
        threading.Event().wait(0.005)
