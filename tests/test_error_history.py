"""An error's history (context, cause, frames) never holds a secret in a printable form.

``raise ... from None`` only hides ``__context__``; tools that print locals (pytest's
``--showlocals``, debuggers, error trackers) would show a request body or header. The check
is exactly what such a tool prints: every frame's locals and the whole exception chain.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ArcTokenError
from arctoken_emulator import Emulator
from tests.conftest import (
    ALICE,
    ALICE_PASSWORD,
    APP_ID,
    APP_SECRET,
    assert_no_secret,
    known_secrets,
)
from tests.support import free_port


def _printed_with_locals(error: BaseException) -> str:
    shown = traceback.TracebackException.from_exception(error, capture_locals=True)
    return "".join(shown.format())


def _fails(action: Callable[[], Any]) -> ArcTokenError:
    with pytest.raises(ArcTokenError) as err:
        action()
    return err.value


def test_a_refused_password_leaves_no_password_in_the_errors_history(
    emu: Emulator, clock: ManualClock
) -> None:
    wrong = "not-the-Passw0rd"
    conn = Connection(
        kind="portal", url=emu.portal_url, username=ALICE, password=wrong, clock=clock
    )
    text = _printed_with_locals(_fails(conn.token))
    assert wrong not in text


def test_a_failed_sign_in_leaves_no_password_in_the_errors_history(
    emu: Emulator, clock: ManualClock
) -> None:
    emu.inject_fault("/sharing/rest/generateToken", "reset")
    conn = Connection(
        kind="portal", url=emu.portal_url, username=ALICE, password=ALICE_PASSWORD, clock=clock,
        retries=0,
    )  # fmt: skip
    error = _fails(conn.token)
    assert error.__context__ is None and error.__traceback__ is not None
    text = _printed_with_locals(error)
    assert ALICE_PASSWORD not in text
    assert_no_secret(text)


def test_an_unreachable_app_token_service_leaves_no_secret_in_the_history(
    clock: ManualClock,
) -> None:
    conn = Connection(
        kind="app", url=f"http://127.0.0.1:{free_port()}", client_id=APP_ID,
        client_secret=APP_SECRET, clock=clock, retries=0,
    )  # fmt: skip
    text = _printed_with_locals(_fails(conn.token))
    assert APP_SECRET not in text


def test_a_failed_request_leaves_no_token_in_the_history(emu: Emulator, clock: ManualClock) -> None:
    conn = Connection(
        kind="server", url=emu.server_url, username=ALICE, password=ALICE_PASSWORD, clock=clock,
        retries=0,
    )  # fmt: skip
    token = conn.token()
    emu.inject_fault("/rest/services/Secure", "reset")
    text = _printed_with_locals(_fails(lambda: conn.request_json("GET", emu.service_url)))
    assert token not in text
    for secret in known_secrets():
        assert secret not in text
