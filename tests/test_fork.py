"""A child forked while another thread signs in gets its own sign-in, instead of waiting for
ever for one that only the parent's thread could finish."""

from __future__ import annotations

import os
import threading
import time

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.tokens.handler import TokenHandler
from tests.test_handler import FakeProvider

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX"),
]


def _exit_status(pid: int, within: float) -> int:
    """The child's exit code; kill it and fail if it is still running after ``within`` s
    (a hang is the failure this test looks for, not a duration it measures)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child waited for the parent's sign-in")


def test_a_child_forked_during_a_sign_in_signs_in_itself(clock: ManualClock) -> None:
    provider = FakeProvider(clock, 3600)
    provider.gate = threading.Event()
    handler = TokenHandler(provider, clock)
    signer = threading.Thread(target=handler.token, daemon=True)
    signer.start()
    while provider.calls < 1:  # the parent's sign-in is in flight, held at the gate
        threading.Event().wait(0.005)
    pid = os.fork()
    if pid == 0:  # the child: the gate is never opened here
        provider.gate, ok = None, False
        try:
            ok = handler.token().value.startswith("token-number-0002")
        finally:
            os._exit(0 if ok else 3)
    try:
        assert _exit_status(pid, 30) == 0
    finally:
        provider.gate.set()
        signer.join(10)
    assert handler.token().value.startswith("token-number-0001")  # the parent's own result
