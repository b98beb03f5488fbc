"""Long runs: refresh ahead of expiry, 16 threads, 498 recovery, refused credentials."""

from __future__ import annotations

from typing import List

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import AccountLockedError, AuthenticationError
from arctoken_core.run.gpjob import GPJob
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, LIFETIME, assert_no_secret
from tests.support import in_threads


def _server(emu: Emulator, clock: ManualClock, password: str = ALICE_PASSWORD) -> Connection:
    return Connection(
        kind="server", url=emu.server_url, username=ALICE, password=password, clock=clock
    )


def _rejected(emu: Emulator) -> int:
    """Service requests the emulator answered with 498/499 (it records every answer code)."""
    return sum(1 for r in emu.requests if "/rest/services/" in r.path and r.status in (498, 499))


def test_a_run_of_five_lifetimes_refreshes_ahead_and_never_sees_498(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _server(emu, clock)
    session = conn.session()
    for _ in range(int(5 * LIFETIME / 60) + 1):
        reply = session.get(emu.service_url, params={"f": "json"}).json()
        assert reply.get("user") == ALICE
        clock.advance(60)
    # a 600 s token is refreshed 60 s early: used 540 s each, so at 0, 540, ..., 2700
    assert conn.tokens_issued == 6
    assert len(emu.token_requests()) == 6
    assert conn.rejections == 0 and _rejected(emu) == 0


def test_sixteen_threads_on_an_expiring_token_cause_one_token_request(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _server(emu, clock)
    session = conn.session()
    session.get(emu.service_url, params={"f": "json"})
    for round_ in range(3):
        clock.advance(LIFETIME - 10)  # past the mandatory window of the current token
        replies = in_threads(16, lambda: session.get(emu.service_url, params={"f": "json"}))
        assert [r.json().get("user") for r in replies] == [ALICE] * 16  # type: ignore[attr-defined]
        assert len(emu.token_requests()) == round_ + 2
    assert conn.rejections == 0


def test_a_revoked_token_is_recovered_with_one_retry(emu: Emulator, clock: ManualClock) -> None:
    conn = _server(emu, clock)
    session = conn.session()
    first = conn.token()
    emu.revoke(first)
    response = session.post(emu.service_url, data={"f": "json", "where": "1=1"})
    assert response.json().get("user") == ALICE
    assert conn.rejections == 1 and conn.token() != first
    assert len(response.history) == 1  # the rejected answer is kept in history
    retried = [r for r in emu.requests if "/Secure/" in r.path]
    assert [r.form.get("where") for r in retried] == ["1=1", "1=1"]  # body re-sent intact


def test_403_is_not_retried(emu: Emulator, clock: ManualClock) -> None:
    conn = _server(emu, clock)
    reply = conn.session().get(emu.restricted_service_url, params={"f": "json"}).json()
    assert reply["error"]["code"] == 403
    assert conn.rejections == 0 and len(emu.token_requests()) == 1


def test_bad_credentials_one_request_then_never_again(emu: Emulator, clock: ManualClock) -> None:
    conn = _server(emu, clock, password="wrong-password-1")
    for _ in range(3):
        with pytest.raises(AuthenticationError) as err:
            conn.session().get(emu.service_url)
        assert_no_secret(str(err.value))
    assert len(emu.token_requests()) == 1
    assert emu.failed_logins(ALICE) == 1
    assert "case-sensitive" in str(err.value)


def test_locked_account_is_reported_as_locked(clock: ManualClock) -> None:
    with Emulator(users={ALICE: ALICE_PASSWORD}, clock=clock, lockout_threshold=2) as emu:
        for _ in range(2):
            with pytest.raises(AuthenticationError):
                _server(emu, clock, password="nope-nope").token()
        with pytest.raises(AccountLockedError):
            _server(emu, clock).token()
        assert len(emu.token_requests()) == 3


def test_gp_job_outlives_several_tokens(emu: Emulator, clock: ManualClock) -> None:
    conn = _server(emu, clock)
    statuses: List[str] = []
    job = GPJob(
        conn.request_json,
        emu.gp_task_url,
        poll_interval=30,
        sleep=clock.advance,
        clock=clock,
        on_status=lambda s: statuses.append(s.status),
    )
    result = job.run({"Input": "x"})
    assert result.status == "esriJobSucceeded"
    assert "Input" in str(result.results["Output"])
    assert "esriJobExecuting" in statuses
    assert conn.refreshes >= 3  # the job ran 3 token lifetimes
    assert conn.rejections == 0 and _rejected(emu) == 0
