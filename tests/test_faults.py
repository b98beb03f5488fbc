"""Injected faults: each one is recovered from, or ends as one clear typed error, in bounded time.

Idempotent calls (GET) are retried with backoff on 5xx, 429, resets and timeouts; a POST that
reached the server (a sign-in above all) is never sent twice; a revoked token is refreshed.
What cannot be recovered ends as one ArcTokenError that says what happened and what to check,
holds no secret, and leaves no half-written output behind. Backoff waits go to a fake sleep.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Type

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import (
    ArcGISServiceError,
    ArcTokenError,
    AuthenticationError,
    ResponseFormatError,
    TransportError,
)
from arctoken_core.run.gpjob import GPJob
from arctoken_core.transport.failures import call
from arctoken_core.transport.replies import read_json
from arctoken_core.transport.session import make_session
from arctoken_core.transport.settings import DEFAULT_RETRIES, HttpSettings
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, LIFETIME, assert_no_secret
from tests.support import SleepLog, connect, free_port, one_error_line, run_cli
from tests.toolbox_support import (  # noqa: F401 - fixtures
    arcpy_fixture,
    everything_shown,
    open_tool,
    toolbox_fixture,
)

pytestmark = pytest.mark.timeout(30)

SERVICE = "Secure/MapServer"
TOKEN = "generateToken"
BACKOFF = [0.5, 1.0]
"""The adapter's waits before the first two retries (HttpSettings.backoff doubling)."""


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepLog:
    """Every session a Connection makes records its backoff here instead of sleeping."""
    return SleepLog().install(monkeypatch)


def _conn(emu: Emulator, clock: ManualClock, **extra: Any) -> Connection:
    """A standalone-server connection with a short timeout (a delay fault times out fast)."""
    return connect("server", emu.server_url, clock, timeout=0.5, **extra)


def _service_calls(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if SERVICE in r.path)


# -- idempotent calls: retried with backoff --------------------------------------------------

TRANSIENT = [
    pytest.param("status", {"status": 500}, id="500"),
    pytest.param("status", {"status": 502}, id="502"),
    pytest.param("status", {"status": 503}, id="503"),
    pytest.param("429", {"retry_after": 2}, id="429"),
    pytest.param("delay", {"seconds": 1.0}, id="delay"),
    pytest.param("reset", {}, id="reset"),
]


@pytest.mark.parametrize("kind, options", TRANSIENT)
def test_a_get_recovers_from_transient_faults_with_backoff(
    emu: Emulator, clock: ManualClock, sleeps: SleepLog, kind: str, options: Dict[str, Any]
) -> None:
    conn = _conn(emu, clock)
    emu.inject_fault(SERVICE, kind, count=2, **options)
    assert conn.request_json("GET", emu.service_url)["user"] == ALICE
    assert sleeps.delays == ([2.0, 2.0] if kind == "429" else BACKOFF)
    assert _service_calls(emu) == 3
    assert len(emu.token_requests()) == 1  # retries of a call are not new sign-ins


@pytest.mark.parametrize("kind, options", TRANSIENT)
def test_discovery_recovers_from_transient_faults(
    emu: Emulator, clock: ManualClock, sleeps: SleepLog, kind: str, options: Dict[str, Any]
) -> None:
    emu.inject_fault("rest/info", kind, count=2, **options)
    assert _conn(emu, clock).token()
    assert len(sleeps.delays) == 2 and len(emu.token_requests()) == 1


EXHAUSTED = [
    pytest.param("status", {"status": 500}, ArcGISServiceError, "try again later", id="500"),
    pytest.param("status", {"status": 502}, ArcGISServiceError, "try again later", id="502"),
    pytest.param("status", {"status": 503}, ArcGISServiceError, "overloaded", id="503"),
    pytest.param("429", {"retry_after": 2}, ArcGISServiceError, "wait a little", id="429"),
    pytest.param("delay", {"seconds": 1.0}, TransportError, "did not answer in time", id="delay"),
    pytest.param("reset", {}, TransportError, "broke before a whole reply", id="reset"),
]


@pytest.mark.parametrize("kind, options, error, words", EXHAUSTED)
def test_a_get_that_keeps_failing_ends_as_one_typed_error(
    emu: Emulator,
    clock: ManualClock,
    sleeps: SleepLog,
    kind: str,
    options: Dict[str, Any],
    error: Type[ArcTokenError],
    words: str,
) -> None:
    conn = _conn(emu, clock)
    conn.token()
    emu.inject_fault(SERVICE, kind, count=10, **options)
    with pytest.raises(error) as err:
        conn.request_json("GET", emu.service_url)
    assert words in str(err.value)
    assert_no_secret(str(err.value))
    assert len(sleeps.delays) == DEFAULT_RETRIES  # the retries, then one error
    assert _service_calls(emu) == DEFAULT_RETRIES + 1


def test_retry_after_is_honoured_up_to_the_cap(emu: Emulator) -> None:
    sleeps = SleepLog()
    session = make_session(HttpSettings(retry_after_cap=5.0), sleep=sleeps)
    emu.inject_fault("rest/info", "429", count=1, retry_after=3)
    emu.inject_fault("rest/info", "429", count=1, retry_after=3600)
    emu.inject_fault("rest/info", "429", count=1, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    reply = read_json(call(session, "GET", f"{emu.server_url}/rest/info", params={"f": "json"}))
    assert "authInfo" in reply
    assert sleeps.delays == [3.0, 5.0, 2.0]  # as asked, capped, backoff for a past HTTP date


def test_a_retry_after_http_date_in_the_future_is_waited_for(emu: Emulator) -> None:
    from email.utils import formatdate

    sleeps = SleepLog()
    session = make_session(HttpSettings(retry_after_cap=500.0), sleep=sleeps)
    emu.inject_fault("rest/info", "429", count=1, retry_after=formatdate(time.time() + 100))
    assert read_json(call(session, "GET", f"{emu.server_url}/rest/info", params={"f": "json"}))
    (delay,) = sleeps.delays
    assert 50 < delay <= 100  # the date's distance, not the 0.5 s backoff


BODY_FAULTS = [
    pytest.param("malformed_json", "malformed JSON", id="malformed_json"),
    pytest.param("html_login", "HTML page instead of ArcGIS JSON", id="html_login"),
    pytest.param("empty", "empty reply", id="empty"),
]


@pytest.mark.parametrize("kind, words", BODY_FAULTS)
def test_a_reply_that_is_not_arcgis_json_is_a_format_error_and_not_retried(
    emu: Emulator, clock: ManualClock, sleeps: SleepLog, kind: str, words: str
) -> None:
    conn = _conn(emu, clock)
    emu.inject_fault(SERVICE, kind)
    with pytest.raises(ResponseFormatError) as err:
        conn.request_json("GET", emu.service_url)
    assert words in str(err.value) and "check" in str(err.value)
    assert _service_calls(emu) == 1 and sleeps.delays == []


def test_a_post_that_reached_the_server_is_not_sent_again(
    emu: Emulator, clock: ManualClock, sleeps: SleepLog
) -> None:
    conn = _conn(emu, clock)
    conn.token()
    emu.inject_fault(SERVICE, "reset")
    with pytest.raises(TransportError, match="broke before"):
        conn.request_json("POST", emu.service_url, {"where": "1=1"})
    assert _service_calls(emu) == 1 and sleeps.delays == []


# -- the token service: one POST, never repeated; the next call tries again ----------------

TOKEN_FAULTS = [
    pytest.param("status", {"status": 500}, ArcGISServiceError, "HTTP 500", 4, id="500"),
    pytest.param("status", {"status": 502}, ArcGISServiceError, "HTTP 502", 4, id="502"),
    pytest.param("status", {"status": 503}, ArcGISServiceError, "try again later", 4, id="503"),
    pytest.param("429", {"retry_after": 1}, ArcGISServiceError, "wait a little", 4, id="429"),
    pytest.param("delay", {"seconds": 1.0}, TransportError, "did not answer", 5, id="delay"),
    pytest.param("reset", {}, TransportError, "broke before", 5, id="reset"),
    pytest.param("malformed_json", {}, ResponseFormatError, "malformed JSON", 5, id="malformed"),
    pytest.param("html_login", {}, ResponseFormatError, "web-tier sign-in", 5, id="html_login"),
    pytest.param("empty", {}, ResponseFormatError, "empty reply", 5, id="empty"),
]


@pytest.mark.parametrize("kind, options, error, words, exit_code", TOKEN_FAULTS)
def test_a_failed_sign_in_is_sent_once_and_the_next_call_tries_again(
    emu: Emulator,
    clock: ManualClock,
    sleeps: SleepLog,
    kind: str,
    options: Dict[str, Any],
    error: Type[ArcTokenError],
    words: str,
    exit_code: int,
) -> None:
    conn = _conn(emu, clock)
    emu.inject_fault(TOKEN, kind, **options)
    with pytest.raises(error) as err:
        conn.token()
    assert type(err.value) is error  # not mistaken for refused credentials
    assert words in str(err.value)
    assert_no_secret(str(err.value))
    assert len(emu.token_requests()) == 1 and sleeps.delays == []
    assert conn.token()  # a fault is not latched like refused credentials
    assert len(emu.token_requests()) == 2


def test_a_sign_in_that_never_connected_is_retried() -> None:
    sleeps = SleepLog()
    session = make_session(HttpSettings(), sleep=sleeps)
    url = f"http://127.0.0.1:{free_port()}/arcgis/tokens/generateToken"
    with pytest.raises(TransportError, match="could not reach"):
        call(session, "POST", url, data={"password": ALICE_PASSWORD}, what="sign-in")
    assert sleeps.delays == [0.5, 1.0, 2.0]  # nothing reached a server: safe to repeat


@pytest.mark.parametrize("kind, options, error, words, exit_code", TOKEN_FAULTS)
def test_the_cli_fails_in_one_line_and_leaves_nothing_behind(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    options: Dict[str, Any],
    error: Type[ArcTokenError],
    words: str,
    exit_code: int,
) -> None:
    monkeypatch.chdir(tmp_path)
    emu.inject_fault(TOKEN, kind, **options)
    args = ["token", "--kind", "server", "--url", emu.server_url, "--username", ALICE]
    code, out, err = run_cli([*args, "--password-stdin", "--timeout", "0.5"], ALICE_PASSWORD)
    assert (code, out) == (exit_code, "")
    assert one_error_line(err)
    assert words in err
    assert_no_secret(err)
    assert list(tmp_path.iterdir()) == []


# -- revocation and clock skew: recovered ------------------------------------------------------


def test_a_token_revoked_mid_job_is_refreshed_and_the_job_finishes(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = _conn(emu, clock)
    revoked: List[str] = []

    def poll_sleep(seconds: float) -> None:
        if not revoked:  # the administrator revokes the token while the job runs
            revoked.append(conn.token())
            emu.revoke(revoked[0])
        clock.advance(seconds)

    job = GPJob(conn.request_json, emu.gp_task_url, poll_interval=60, sleep=poll_sleep, clock=clock)
    assert job.run({"Input": "x"}).status == "esriJobSucceeded"
    assert conn.rejections == 1 and conn.token() != revoked[0]


def test_a_revoked_portal_token_is_refreshed_during_a_federated_exchange(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = connect("portal", emu.portal_url, clock)
    server = conn.add_server(emu.federated_server_url)
    portal_token, server_token = conn.token(), server.token().value
    emu.revoke(portal_token)
    emu.revoke(server_token)
    reply = conn.session().get(emu.federated_service_url, params={"f": "json"}).json()
    assert reply["user"] == ALICE
    assert conn.token() != portal_token and server.token().value != server_token
    assert emu.failed_logins(ALICE) == 0


@pytest.mark.parametrize("offset", [-2 * 3600.0, 2 * 3600.0])
def test_a_server_clock_hours_off_never_lets_a_token_expire_in_use(
    clock: ManualClock, offset: float
) -> None:
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        clock=clock,
        token_lifetime=LIFETIME,
        server_clock_offset=offset,
    ) as emu:
        conn = _conn(emu, clock)
        session = conn.session()
        for _ in range(int(3 * LIFETIME / 60)):
            assert session.get(emu.service_url, params={"f": "json"}).json()["user"] == ALICE
            clock.advance(60)
        assert conn.rejections == 0
        assert conn.tokens_issued == len(emu.token_requests()) == 4  # used 540 s of each 600


# -- the toolbox's output files: whole or absent -----------------------------------------------


def _tool_values(emu: Emulator, **extra: Any) -> Dict[str, Any]:
    values: Dict[str, Any] = dict(
        connection_type="ArcGIS Server (standalone)",
        url=emu.server_url,
        username=ALICE,
        password=ALICE_PASSWORD,
    )
    return {**values, **extra}


TOOL_FAULTS = [
    pytest.param("reset", {}, "broke before", id="reset"),
    pytest.param("status", {"status": 503}, "try again later", id="503"),
    pytest.param("html_login", {}, "web-tier sign-in", id="html_login"),
]


@pytest.mark.parametrize("kind, options, words", TOOL_FAULTS)
def test_generate_token_tool_fails_clearly_and_writes_no_token_file(
    toolbox: ModuleType,
    arcpy: ModuleType,
    emu: Emulator,
    clock: ManualClock,
    tmp_path: Path,
    kind: str,
    options: Dict[str, Any],
    words: str,
) -> None:
    tool = open_tool(toolbox, "GenerateToken")
    tool.tool.clock = clock
    tool.set(**_tool_values(emu, token_file=str(tmp_path / "token.json")))
    emu.inject_fault(TOKEN, kind, **options)
    with pytest.raises(arcpy.ExecuteError) as err:
        tool.run()
    assert words in str(err.value) and "Traceback" not in str(err.value)
    assert_no_secret(everything_shown())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind, options, words", TOOL_FAULTS)
def test_run_with_credentials_tool_writes_a_whole_failed_outcome(
    toolbox: ModuleType,
    arcpy: ModuleType,
    emu: Emulator,
    clock: ManualClock,
    tmp_path: Path,
    sleeps: SleepLog,
    kind: str,
    options: Dict[str, Any],
    words: str,
) -> None:
    outcome = tmp_path / "outcome.json"
    tool = open_tool(toolbox, "RunWithCredentials")
    tool.tool.clock, tool.tool.sleep = clock, clock.advance
    values = _tool_values(emu, target_type="REST request", request_url=emu.service_url)
    tool.set(**values, output_file=str(outcome))
    emu.inject_fault(SERVICE, kind, count=10, **options)
    with pytest.raises(arcpy.ExecuteError) as err:
        tool.run()
    assert words in str(err.value) and "Traceback" not in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == [outcome.name]  # no temporary file left
    data = json.loads(outcome.read_text(encoding="utf-8"))
    assert data["status"] == "failed" and words in data["error"]
    assert_no_secret(outcome.read_text(encoding="utf-8") + everything_shown())


def test_a_firewall_403_on_sign_in_is_not_blamed_on_the_password(
    emu: Emulator, clock: ManualClock
) -> None:
    emu.inject_fault("generateToken", "status", status=403, body="<html>Forbidden</html>")
    conn = Connection(
        kind="server", url=emu.server_url, username=ALICE, password=ALICE_PASSWORD, clock=clock
    )
    with pytest.raises(ArcGISServiceError) as err:
        conn.token()
    assert not isinstance(err.value, AuthenticationError)
    assert "proxy, firewall or web server" in str(err.value)
    assert conn.token()  # not latched: the next attempt signs in
