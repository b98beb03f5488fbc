"""Lockout safety: refused credentials cost exactly one sign-in per user action.

Accounts lock after a few failed sign-ins, so no retry, thread or refresh path may repeat a
refused one. The emulator counts failed sign-ins per user (``failed_logins``): after each
action below it says 1, whatever the threads, the retries or the way the refresh came about.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import AuthenticationError
from arctoken_core.run.gpjob import GPJob
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, APP_ID, LIFETIME, assert_no_secret
from tests.support import SleepLog, connect, in_threads, one_error_line, run_cli

pytestmark = pytest.mark.timeout(60)

WRONG = "Wrong-Pa55word!"
THREADS = 16

Make = Callable[[Emulator, ManualClock], Connection]
Where = Callable[[Emulator], str]
BAD_PASSWORD: Dict[str, Tuple[Make, Where]] = {
    "portal": (
        lambda e, c: connect("portal", e.portal_url, c, password=WRONG),
        lambda e: f"{e.portal_url}/sharing/rest/community/self",
    ),
    "online": (
        lambda e, c: connect("online", e.online_url, c, password=WRONG),
        lambda e: e.online_service_url,
    ),
    "server": (
        lambda e, c: connect("server", e.server_url, c, password=WRONG),
        lambda e: e.service_url,
    ),
    "portal+federated server": (
        lambda e, c: connect(
            "portal", e.portal_url, c, password=WRONG, server_url=e.federated_server_url
        ),
        lambda e: e.federated_service_url,
    ),
    "federated server via its portal": (
        lambda e, c: connect(
            "server", e.federated_server_url, c, password=WRONG, trusted_hosts=[e.portal_url]
        ),
        lambda e: e.federated_service_url,
    ),
}
"""A connection with a bad password, and a service its token would go to."""


def _all_refused(results: List[object]) -> None:
    assert len(results) == THREADS
    for result in results:
        assert isinstance(result, AuthenticationError), result
        assert_no_secret(str(result))
        assert WRONG not in str(result)


@pytest.mark.parametrize("name", sorted(BAD_PASSWORD))
def test_16_threads_with_a_bad_password_send_one_sign_in(
    emu: Emulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    SleepLog().install(monkeypatch)
    make, where = BAD_PASSWORD[name]
    conn, service = make(emu, clock), where(emu)
    session = conn.session()
    _all_refused(in_threads(THREADS, conn.token))
    _all_refused(in_threads(THREADS, lambda: session.get(service)))
    _all_refused(in_threads(THREADS, lambda: conn.request_json("GET", service)))
    clock.advance(2 * LIFETIME)  # later calls, on later refresh schedules: still latched
    _all_refused(in_threads(THREADS, conn.token))
    assert emu.failed_logins(ALICE) == 1
    assert len(emu.token_requests()) == 1


def test_bad_app_credentials_send_one_sign_in(emu: Emulator, clock: ManualClock) -> None:
    conn = connect("app", emu.online_url, clock, client_secret="not-the-app-secret")
    _all_refused(in_threads(THREADS, conn.token))
    _all_refused(in_threads(THREADS, lambda: conn.session().get(emu.online_service_url)))
    assert [r.path.rsplit("/", 1)[-1] for r in emu.token_requests()] == ["token"]


REFRESH_PATHS: Dict[str, Callable[[Emulator, ManualClock, str], object]] = {
    "expired": lambda e, c, token: c.advance(LIFETIME),
    "refresh window": lambda e, c, token: c.advance(LIFETIME - 50),
    "revoked (498)": lambda e, c, token: e.revoke(token),
}


@pytest.mark.parametrize("path", sorted(REFRESH_PATHS))
def test_a_password_changed_mid_run_costs_one_failed_sign_in_whatever_the_refresh_path(
    emu: Emulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    SleepLog().install(monkeypatch)
    conn = connect("server", emu.server_url, clock)
    session = conn.session()
    first = conn.token()
    emu.users[ALICE] = "changed-by-the-admin"
    emu.inject_fault("Secure/MapServer", "status", count=6, status=503)  # retried GETs too
    REFRESH_PATHS[path](emu, clock, first)
    for _ in range(3):
        in_threads(THREADS, lambda: session.get(emu.service_url, params={"f": "json"}))
        clock.advance(LIFETIME / 4)
    with pytest.raises(AuthenticationError, match="refused the sign-in"):
        conn.token()
    assert emu.failed_logins(ALICE) == 1
    assert len(emu.token_requests()) == 2  # the first sign-in, and the one refused refresh


def test_a_long_job_whose_password_changed_fails_after_one_refused_refresh(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = connect("server", emu.server_url, clock)
    job = GPJob(
        conn.request_json, emu.gp_task_url, poll_interval=60, sleep=clock.advance, clock=clock
    )
    emu.users[ALICE] = "changed-by-the-admin"
    with pytest.raises(AuthenticationError):
        job.run({"Input": "x"})
    assert emu.failed_logins(ALICE) == 1


def test_one_refused_action_does_not_lock_the_account(clock: ManualClock) -> None:
    with Emulator(users={ALICE: ALICE_PASSWORD}, clock=clock, lockout_threshold=2) as emu:
        bad = connect("server", emu.server_url, clock, password=WRONG)
        _all_refused(in_threads(THREADS, bad.token))
        assert connect("server", emu.server_url, clock).token()  # not locked out


CLI_CASES = {
    "server": lambda e: ["--kind", "server", "--url", e.server_url, "--username", ALICE],
    "federated": lambda e: [
        "--kind",
        "portal",
        "--url",
        e.portal_url,
        "--username",
        ALICE,
        "--server-url",
        e.federated_server_url,
    ],
    "app": lambda e: ["--kind", "app", "--url", e.online_url, "--client-id", APP_ID],
}


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_a_cli_run_with_bad_credentials_makes_one_attempt(emu: Emulator, name: str) -> None:
    code, out, err = run_cli(["token", *CLI_CASES[name](emu), "--password-stdin"], WRONG)
    assert (code, out) == (3, "")
    assert WRONG not in err and one_error_line(err)
    assert len(emu.token_requests()) == 1
    assert emu.failed_logins(ALICE) == (0 if name == "app" else 1)
