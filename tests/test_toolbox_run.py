"""ArcTokenTools.pyt running against the emulator, through the arcpy double, as Pro runs it.

Every connection type signs in; outputs are set and chain into other tools as in a model;
Run with Credentials carries each target across several token lifetimes (the clock moves,
nobody sleeps); failures end as arcpy.ExecuteError with a useful message; and no message or
output file ever holds a password or a whole token.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional

import pytest
import requests

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_emulator import Emulator
from tests.conftest import (
    ALICE,
    ALICE_PASSWORD,
    API_KEY,
    APP_ID,
    APP_SECRET,
    LIFETIME,
    assert_no_secret,
)
from tests.toolbox_support import (  # noqa: F401 - fixtures
    ProTool,
    arcpy_fixture,
    everything_shown,
    inline,
    messages,
    model_variables,
    open_tool,
    toolbox_fixture,
)

PORTAL, SERVER = "ArcGIS Enterprise portal", "ArcGIS Server (standalone)"
PRO = "ArcGIS Pro active portal"


def _tool(toolbox: ModuleType, clock: ManualClock, name: str = "GenerateToken") -> ProTool:
    """A tool whose runs use the test's clock, and whose waits move it instead of sleeping."""
    tool = open_tool(toolbox, name)
    tool.tool.clock = clock
    tool.tool.sleep = clock.advance
    return tool


def _password(kind: str, url: str, **extra: Any) -> Dict[str, Any]:
    values: Dict[str, Any] = dict(
        connection_type=kind, url=url, username=ALICE, password=ALICE_PASSWORD
    )
    values.update(extra)
    return values


Case = Callable[[Emulator], Dict[str, Any]]
KIND_CASES: Dict[str, Case] = {
    "online": lambda e: _password("ArcGIS Online", e.online_url),
    "portal": lambda e: _password(PORTAL, e.portal_url),
    "server": lambda e: _password(SERVER, e.server_url),
    "federated": lambda e: _password(PORTAL, e.portal_url, server_url=e.federated_server_url),
    "apikey": lambda e: dict(connection_type="API key", url=e.online_url, api_key=API_KEY),
    "app": lambda e: dict(
        connection_type="App credentials",
        url=e.online_url,
        client_id=APP_ID,
        client_secret=APP_SECRET,
    ),
}
TOKEN_FOR: Dict[str, Callable[[Emulator], str]] = {
    "online": lambda e: e.online_url,
    "portal": lambda e: e.portal_url,
    "server": lambda e: e.server_url,
    "federated": lambda e: e.federated_server_url,
    "apikey": lambda e: e.online_url,
    "app": lambda e: e.online_url,
}
CHECK_URL: Dict[str, Callable[[Emulator], str]] = {
    "online": lambda e: e.online_service_url,
    "portal": lambda e: f"{e.portal_url}/sharing/rest/community/self",
    "server": lambda e: e.service_url,
    "federated": lambda e: e.federated_service_url,
    "apikey": lambda e: e.online_service_url,
    "app": lambda e: e.online_service_url,
}


def use_token(url: str, token: str, referer: Optional[str]) -> Dict[str, Any]:
    """What a downstream tool does with the token: send it (and its referer) with a request."""
    headers = {"X-Esri-Authorization": f"Bearer {token}"}
    if referer:
        headers["Referer"] = referer
    reply: Dict[str, Any] = requests.get(url, params={"f": "json"}, headers=headers).json()
    return reply


def _no_secret_shown(*files: Path) -> None:
    assert_no_secret(everything_shown())
    for path in files:
        assert_no_secret(path.read_text(encoding="utf-8"))


def _rejected(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if "/rest/services/" in r.path and r.status in (498, 499))


# -- Generate Token -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_every_connection_type_generates_a_usable_token(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, kind: str
) -> None:
    tool = _tool(toolbox, clock).set(**KIND_CASES[kind](emu))
    assert tool.errors() == {}
    tool.run()
    token = tool.output("token")
    assert isinstance(token, str) and len(token) > 12
    assert tool.output("token_url") == TOKEN_FOR[kind](emu)
    expires = tool.output("expires")
    if kind == "apikey":  # a key given no expiry has none: no made-up date
        assert expires is None
        assert any("with no expiry" in m for m in messages("message"))
        return
    assert isinstance(expires, dt.datetime) and expires > dt.datetime.fromtimestamp(clock())
    reply = use_token(CHECK_URL[kind](emu), token, tool.output("token_referer"))
    assert "error" not in reply, reply
    shown = " ".join(messages("message"))
    assert "Signed in to " + TOKEN_FOR[kind](emu) in shown and "valid until" in shown
    assert token[-4:] in shown  # the masked form: last four characters only
    _no_secret_shown()


def test_messages_say_who_signed_in(toolbox: ModuleType, emu: Emulator, clock: ManualClock) -> None:
    _tool(toolbox, clock).set(**KIND_CASES["server"](emu)).run()
    assert f"as {ALICE}" in " ".join(messages("message"))


def test_token_file_is_private_json(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "token.json"
    path.write_text("old content")
    tool = _tool(toolbox, clock).set(**KIND_CASES["portal"](emu), token_file=str(path))
    tool.run()
    data = json.loads(path.read_text())
    assert set(data) == {"token", "expires", "expires_iso", "referer", "url"}
    assert not tool.output("token")  # left empty: history would record it
    me = requests.get(
        f"{emu.portal_url}/sharing/rest/community/self",
        params={"f": "json"},
        headers={"X-Esri-Authorization": f"Bearer {data['token']}", "Referer": data["referer"]},
        timeout=10,
    ).json()
    assert me["username"] == ALICE
    assert data["url"] == emu.portal_url and data["referer"] == "arctokentools"
    assert data["expires"] == pytest.approx(tool.output("expires").timestamp() * 1000, abs=1000)
    assert data["expires_iso"].endswith("Z")
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["token.json"]
    assert str(path) in " ".join(messages("message"))
    _no_secret_shown()


def test_refused_password_is_one_clear_error(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock
) -> None:
    tool = _tool(toolbox, clock).set(**_password(PORTAL, emu.portal_url, password="wrong-Pa55"))
    with pytest.raises(arcpy.ExecuteError) as caught:
        tool.run()
    assert "refused the sign-in" in str(caught.value)
    assert messages("error") == [str(caught.value)]
    assert "Traceback" not in str(caught.value)
    assert emu.failed_logins(ALICE) == 1
    assert "wrong-Pa55" not in everything_shown()


def test_unexpected_errors_are_masked_too(
    toolbox: ModuleType,
    arcpy: ModuleType,
    emu: Emulator,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from arctoken_core.run import generate

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"bug while holding {ALICE_PASSWORD}")

    monkeypatch.setattr(generate, "issue_token", broken)
    tool = _tool(toolbox, clock).set(**KIND_CASES["portal"](emu))
    with pytest.raises(arcpy.ExecuteError, match="Unexpected error"):
        tool.run()
    _no_secret_shown()


# -- ArcGIS Pro's own sign-in -------------------------------------------------------------------


def _pro_signin(emu: Emulator, clock: ManualClock) -> Callable[[], Dict[str, Any]]:
    """Pro's GetSigninToken: a real portal token, expiry in epoch SECONDS, Pro refreshing it."""
    pro = Connection(
        kind="portal",
        url=emu.portal_url,
        username=ALICE,
        password=ALICE_PASSWORD,
        referer="https://pro.example.invalid/",
        clock=clock,
    )

    def signin() -> Dict[str, Any]:
        token = pro.token_info()
        return {"token": token.value, "referer": token.referer, "expires": int(token.expires_at)}

    return signin


def test_pro_active_portal_token(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock
) -> None:
    signin = _pro_signin(emu, clock)
    arcpy._double.STATE.signin = signin
    arcpy._double.STATE.active_portal_url = emu.portal_url + "/"
    tool = _tool(toolbox, clock).set(connection_type=PRO)
    assert tool["url"].value == emu.portal_url + "/"
    tool.run()
    pro = signin()
    assert tool.output("token") == pro["token"]
    assert tool.output("expires") == dt.datetime.fromtimestamp(pro["expires"])
    assert tool.output("token_referer") == "https://pro.example.invalid/"
    assert tool.output("token_url") == emu.portal_url
    community = f"{emu.portal_url}/sharing/rest/community/self"
    assert use_token(community, pro["token"], pro["referer"])["username"] == ALICE
    assert "ArcGIS Pro's signed-in user" in " ".join(messages("message"))


def test_pro_active_portal_with_a_federated_server(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock
) -> None:
    arcpy._double.STATE.signin = _pro_signin(emu, clock)
    arcpy._double.STATE.active_portal_url = emu.portal_url
    tool = _tool(toolbox, clock).set(connection_type=PRO, server_url=emu.federated_server_url)
    tool.run()
    assert tool.output("token_url") == emu.federated_server_url
    reply = use_token(emu.federated_service_url, tool.output("token"), tool.output("token_referer"))
    assert reply["user"] == ALICE


def test_pro_not_signed_in(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock
) -> None:
    arcpy._double.STATE.active_portal_url = emu.portal_url
    tool = _tool(toolbox, clock).set(connection_type=PRO)
    with pytest.raises(arcpy.ExecuteError, match="not signed in"):
        tool.run()
    assert arcpy._double.STATE.signin_calls == 1


# -- a model: Generate Token feeding other tools -----------------------------------------------


class UseToken:
    """A tool of some other toolbox that takes a token and its referer as plain strings."""

    def __init__(self) -> None:
        self.label = "Use Token"

    def getParameterInfo(self) -> List[Any]:  # noqa: N802 - arcpy's name
        arcpy = sys.modules["arcpy"]
        text = dict(datatype="GPString", parameterType="Required", direction="Input")
        return [
            arcpy.Parameter(name="url", displayName="URL", **text),
            arcpy.Parameter(name="token", displayName="Token", **text),
            arcpy.Parameter(name="referer", displayName="Referer", **text),
            arcpy.Parameter(
                name="user",
                displayName="User",
                datatype="GPString",
                parameterType="Derived",
                direction="Output",
            ),
        ]

    def updateParameters(self, parameters: List[Any]) -> None:  # noqa: N802 - arcpy's name
        """Nothing to update."""

    def updateMessages(self, parameters: List[Any]) -> None:  # noqa: N802 - arcpy's name
        """Nothing to check."""

    def execute(self, parameters: List[Any], messages: Any) -> None:
        url, token, referer = (p.valueAsText for p in parameters[:3])
        reply = use_token(url, token, referer)
        parameters[3].value = reply.get("user") or json.dumps(reply)


def test_model_chain_into_another_tool_with_inline_variables(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock
) -> None:
    generate = _tool(toolbox, clock).set(**KIND_CASES["federated"](emu))
    generate.run()
    variables = model_variables(generate)
    downstream = ProTool(UseToken()).set(
        url=emu.federated_service_url,
        token=inline("%Token%", variables),
        referer=inline("%Token Referer%", variables),
    )
    downstream.run()
    assert downstream.output("user") == ALICE


def test_model_chain_outputs_into_run_with_credentials(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    """Generate Token's Token URL output, inline in Run with Credentials' request URL."""
    generate = _tool(toolbox, clock).set(**KIND_CASES["federated"](emu))
    generate.run()
    out = tmp_path / "reply.json"
    request_url = inline(
        "%Token URL%/rest/services/Secure/MapServer/0/query", model_variables(generate)
    )
    run = _tool(toolbox, clock, "RunWithCredentials").set(
        **KIND_CASES["federated"](emu),
        target_type="REST request",
        request_url=request_url,
        request_parameters='{"where": "1=1"}',
        output_file=str(out),
    )
    run.run()
    outcome = json.loads(out.read_text())
    assert outcome["status"] == "succeeded"
    assert len(outcome["result"]["features"]) == 2
    assert run["result_file"].valueAsText == str(out)


# -- Run with Credentials ----------------------------------------------------------------------

LONG_SCRIPT = '''
def main(ctx):
    """Work across several token lifetimes, through the session and request_json."""
    seen = []
    rounds = ctx.args["rounds"]
    for i in range(rounds):
        reply = ctx.session.get(ctx.args["service"], params={"f": "json"}).json()
        seen.append(reply.get("user") or reply.get("error"))
        query = ctx.request_json("GET", ctx.args["service"] + "/0/query", {"where": "1=1"})
        seen.append(len(query["features"]))
        ctx.progress("round %d" % i, 100.0 * (i + 1) / rounds)
        ctx.sleep(ctx.args["step"])
    ctx.message("the token is " + ctx.token())
    ctx.warning("almost done")
    return {"seen": seen, "referer": ctx.referer, "url": ctx.url}
'''


def _run(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path, **values: Any
) -> ProTool:
    base = dict(KIND_CASES["server"](emu), output_file=str(tmp_path / "outcome.json"))
    base.update(values)
    return _tool(toolbox, clock, "RunWithCredentials").set(**base)


def _outcome(tmp_path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads((tmp_path / "outcome.json").read_text())
    return data


def _script(tmp_path: Path, text: str, name: str = "work.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_script_runs_across_token_lifetimes(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    args = {"rounds": 16, "step": LIFETIME / 5, "service": emu.service_url}
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        script_file=_script(tmp_path, LONG_SCRIPT),
        script_arguments=json.dumps(args),
    )
    tool.run()
    outcome = _outcome(tmp_path)
    assert outcome["status"] == "succeeded" and outcome["error"] is None
    assert outcome["result"]["seen"] == [ALICE, 2] * 16
    assert outcome["result"]["url"] == emu.server_url
    assert outcome["token_refreshes"] >= 2
    assert tool.output("token_refreshes") == outcome["token_refreshes"]
    assert tool["result_file"].valueAsText == str(tmp_path / "outcome.json")
    assert _rejected(emu) == 0
    assert "the token is ********" in messages("message")
    assert "almost done" in messages("warning")
    assert sum("refreshed" in m for m in messages("message")) == outcome["token_refreshes"]
    calls = [name for name, _ in arcpy._double.STATE.progressor]
    assert calls[0] == "SetProgressor" and calls[-1] == "ResetProgressor"
    assert "SetProgressorPosition" in calls
    _no_secret_shown(tmp_path / "outcome.json")


def test_a_failing_script_is_a_tool_error_with_its_traceback(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    broken = "def main(ctx):\n    helper(ctx.token())\n\n\ndef helper(value):\n"
    broken += "    raise ValueError('cannot use ' + value + ' with ' + ctx_password)\n"
    broken += f"\n\nctx_password = {ALICE_PASSWORD!r}\n"
    tool = _run(toolbox, emu, clock, tmp_path, script_file=_script(tmp_path, broken, "bad.py"))
    with pytest.raises(arcpy.ExecuteError) as caught:
        tool.run()
    text = str(caught.value)
    assert "the script failed: ValueError: cannot use ********" in text
    assert 'bad.py", line 6, in helper' in text and "Traceback" in text
    outcome = _outcome(tmp_path)
    assert outcome["status"] == "failed" and "ValueError" in outcome["error"]
    assert outcome["result"] is None
    assert sorted(os.listdir(tmp_path)) == ["bad.py", "outcome.json"]
    _no_secret_shown(tmp_path / "outcome.json")


def test_a_script_that_returns_no_json_fails(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    script = _script(tmp_path, "def main(ctx):\n    return object()\n")
    tool = _run(toolbox, emu, clock, tmp_path, script_file=script)
    with pytest.raises(arcpy.ExecuteError, match="not JSON-serialisable"):
        tool.run()


def test_a_missing_function_is_a_clear_error(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    script = _script(tmp_path, "def other(ctx):\n    return 1\n")
    tool = _run(toolbox, emu, clock, tmp_path, script_file=script)
    with pytest.raises(arcpy.ExecuteError, match="^Function: work.py has no function 'main'"):
        tool.run()
    assert "Traceback" not in messages("error")[0]


def test_rest_request_survives_a_rejected_token(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    invalid = '{"error": {"code": 498, "message": "Invalid Token", "details": []}}'
    emu.inject_fault("/rest/services/Secure", "status", status=200, body=invalid)
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        **KIND_CASES["federated"](emu),
        target_type="REST request",
        request_url=emu.federated_service_url,
        request_method="POST",
    )
    tool.run()
    outcome = _outcome(tmp_path)
    assert outcome["result"]["user"] == ALICE
    assert outcome["target"] == {
        "type": "rest",
        "url": emu.federated_service_url,
        "method": "POST",
    }
    assert outcome["token_refreshes"] == 1
    _no_secret_shown(tmp_path / "outcome.json")


def test_rest_request_errors_fail_the_tool(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        target_type="REST request",
        request_url=emu.restricted_service_url,
    )
    with pytest.raises(arcpy.ExecuteError, match="403"):
        tool.run()
    assert _outcome(tmp_path)["status"] == "failed"


@pytest.mark.parametrize("kind", ["server", "federated"])
def test_gp_job_runs_across_token_lifetimes(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path, kind: str
) -> None:
    task = emu.gp_task_url if kind == "server" else emu.federated_gp_task_url
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        **KIND_CASES[kind](emu),
        target_type="Geoprocessing service job",
        task_url=task,
        job_parameters='{"duration": 2400}',
        poll_interval=30,
    )
    tool.run()
    outcome = _outcome(tmp_path)
    assert outcome["status"] == "succeeded"
    assert outcome["result"]["status"] == "esriJobSucceeded"
    assert outcome["token_refreshes"] >= 2
    assert _rejected(emu) == 0
    shown = messages("message")
    assert any("Processing 50%" in m for m in shown)
    calls = sys.modules["arcpy"]._double.STATE.progressor
    labels = [args[0] for name, args in calls if args]
    assert any("Executing" in str(label) for label in labels)
    positions = [args[0] for name, args in calls if name == "SetProgressorPosition"]
    assert positions and positions == sorted(positions) and 0 < max(positions) <= 100
    _no_secret_shown(tmp_path / "outcome.json")


def test_a_failed_job_is_a_tool_error_with_its_messages(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        target_type="Geoprocessing service job",
        task_url=emu.gp_task_url,
        job_parameters='{"fail": true, "duration": 120}',
        poll_interval=10,
    )
    with pytest.raises(arcpy.ExecuteError) as caught:
        tool.run()
    assert "failed" in str(caught.value) and "asked to fail" in str(caught.value)
    assert any("asked to fail" in m for m in messages("warning") + messages("message"))
    outcome = _outcome(tmp_path)
    assert outcome["status"] == "failed" and "asked to fail" in outcome["error"]
    _no_secret_shown(tmp_path / "outcome.json")


def test_a_job_past_its_time_limit_is_cancelled_and_fails(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        target_type="Geoprocessing service job",
        task_url=emu.gp_task_url,
        time_limit=300,
        poll_interval=30,
    )
    with pytest.raises(arcpy.ExecuteError, match="time limit of 300 s"):
        tool.run()
    assert any(r.path.endswith("/cancel") for r in emu.requests)
    assert _outcome(tmp_path)["status"] == "failed"


def test_cancel_in_pro_cancels_the_job_writes_the_outcome_and_fails_clearly(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    """The user presses Cancel 45 s into a 10-minute job: Pro sets isCancelled (the tool
    turned autoCancelling off), the job is cancelled on the server, the outcome is written."""
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        target_type="Geoprocessing service job",
        task_url=emu.gp_task_url,
        job_parameters='{"duration": 600}',
        poll_interval=10,
    )
    start = clock()
    arcpy._double.STATE.cancel = lambda: clock() > start + 45
    with pytest.raises(arcpy.ExecuteError, match="cancelled by the user"):
        tool.run()
    assert clock() - start < 60
    assert any(r.path.endswith("/cancel") for r in emu.requests)
    outcome = _outcome(tmp_path)
    assert outcome["status"] == "cancelled" and "cancelled on the server" in outcome["error"]
    assert any("cancelled by the user" in m for m in messages("error"))
    assert arcpy.env.autoCancelling is True  # put back as it was
    _no_secret_shown(tmp_path / "outcome.json")


def test_cancel_is_not_seen_while_pro_cancels_by_itself(arcpy: ModuleType) -> None:
    """The double follows Esri's documentation: isCancelled turns True only when
    autoCancelling is False."""
    arcpy._double.STATE.cancel = True
    assert arcpy.env.autoCancelling is True and arcpy.env.isCancelled is False
    arcpy.env.autoCancelling = False
    assert arcpy.env.isCancelled is True
    with pytest.raises(AttributeError):
        arcpy.env.isCancelled = False


def test_bad_parameters_write_no_outcome(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    tool = _run(toolbox, emu, clock, tmp_path, script_file=str(tmp_path / "gone.py"))
    with pytest.raises(arcpy.ExecuteError):
        tool.run()
    assert not (tmp_path / "outcome.json").exists()


def test_pro_sign_in_carries_a_long_script(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    arcpy._double.STATE.signin = _pro_signin(emu, clock)
    arcpy._double.STATE.active_portal_url = emu.portal_url
    args = {"rounds": 12, "step": LIFETIME / 4, "service": emu.federated_service_url}
    tool = _run(
        toolbox,
        emu,
        clock,
        tmp_path,
        connection_type=PRO,
        url=None,
        username=None,
        password=None,
        server_url=emu.federated_server_url,
        script_file=_script(tmp_path, LONG_SCRIPT),
        script_arguments=json.dumps(args),
    )
    tool.run()
    outcome = _outcome(tmp_path)
    assert outcome["result"]["seen"] == [ALICE, 2] * 12
    assert outcome["token_refreshes"] >= 2
    assert arcpy._double.STATE.signin_calls >= 3
    assert _rejected(emu) == 0
    _no_secret_shown(tmp_path / "outcome.json")


def test_parallel_tool_runs_share_one_sign_in_through_the_cache(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock
) -> None:
    first = _tool(toolbox, clock).set(**KIND_CASES["portal"](emu))
    second = _tool(toolbox, clock).set(**KIND_CASES["portal"](emu))
    first.run()
    second.run()
    assert first.output("token") == second.output("token")
    assert len(emu.token_requests()) == 1
    _no_secret_shown()


def test_model_chain_token_into_run_with_credentials_as_an_api_key(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    """%Token% and %Token Referer% of Generate Token drive Run with Credentials' API key mode."""
    generate = _tool(toolbox, clock).set(**KIND_CASES["portal"](emu))
    generate.run()
    variables = model_variables(generate)
    out = tmp_path / "me.json"
    run = _tool(toolbox, clock, "RunWithCredentials").set(
        connection_type="API key",
        url=emu.portal_url,
        api_key=inline("%Token%", variables),
        referer=inline("%Token Referer%", variables),
        target_type="REST request",
        request_url=f"{emu.portal_url}/sharing/rest/community/self",
        output_file=str(out),
    )
    run.run()
    outcome = json.loads(out.read_text())
    assert outcome["status"] == "succeeded" and outcome["result"]["username"] == ALICE
    assert len(emu.token_requests()) == 1  # only Generate Token signed in
