"""arctoken_core.run without arcpy: targets, checks, files, scripts, jobs, reporting."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ConfigError, JobFailedError, JobTimeoutError
from arctoken_core.run import generate, job, outputs, reporting
from arctoken_core.run import script as scripts
from arctoken_core.run.outcome import run_to_file
from arctoken_core.run.pacing import Pace
from arctoken_core.run.script import ScriptError
from arctoken_core.run.targets import (
    JobTarget,
    RestTarget,
    ScriptTarget,
    check_target,
    parse_json_object,
    target_from_values,
)
from arctoken_core.secrets import MASK, Secret
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, LIFETIME, assert_no_secret

ROOT = Path(__file__).resolve().parent.parent


class ListReporter:
    """A Reporter that keeps everything in lists."""

    def __init__(self) -> None:
        self.infos: List[str] = []
        self.warnings: List[str] = []
        self.progress_calls: List[Tuple[str, Optional[float]]] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def progress(self, label: str, percent: Optional[float] = None) -> None:
        self.progress_calls.append((label, percent))

    def everything(self) -> str:
        labels = [label for label, _ in self.progress_calls]
        return "\n".join(self.infos + self.warnings + labels)


@pytest.fixture
def conn(emu: Emulator, clock: ManualClock) -> Connection:
    """A standalone-server connection on the test clock."""
    return Connection(
        kind="server", url=emu.server_url, username=ALICE, password=ALICE_PASSWORD, clock=clock
    )


def _script(tmp_path: Path, text: str, name: str = "work.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _outcome(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(path.read_text())
    return data


# -- values and checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, {}), ("", {}), ("  ", {}), ('{"a": [1, 2]}', {"a": [1, 2]}), ({"b": 1}, {"b": 1})],
)
def test_parse_json_object(raw: Any, expected: Dict[str, Any]) -> None:
    assert parse_json_object(raw, "script_arguments") == expected


@pytest.mark.parametrize("raw", ["[1]", "3", '"text"', "{nope", "null"])
def test_parse_json_object_refuses(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_json_object(raw, "request_parameters")
    assert caught.value.field == "request_parameters"


def test_targets_from_values(tmp_path: Path) -> None:
    script = _script(tmp_path, "def run(ctx):\n    return 1\n")
    assert target_from_values(
        "script", {"script_file": script, "function_name": "run", "script_arguments": '{"n": 1}'}
    ) == ScriptTarget(script, "run", {"n": 1})
    assert target_from_values(
        "rest", {"request_url": "https://a.example/x", "request_method": "post"}
    ) == RestTarget("https://a.example/x", "POST", {})
    assert target_from_values(
        "gpjob",
        {"task_url": "https://a.example/t", "poll_interval": 5, "time_limit": 60},
    ) == JobTarget("https://a.example/t", {}, 5.0, 60.0)


def test_target_errors_name_their_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        target_from_values("rest", {"request_url": "http://gis.example.com/x"})
    assert caught.value.field == "request_url"
    with pytest.raises(ConfigError) as caught:
        target_from_values("script", {})
    assert caught.value.field == "script_file"
    assert check_target("nothing", {})[0].field == "target_type"


def test_loopback_http_urls_are_allowed() -> None:
    (problem,) = check_target("rest", {"request_url": "http://127.0.0.1:8080/arcgis/rest"})
    assert problem.severity == "warning"  # as for the connection URL: allowed, but said
    (problem,) = check_target("rest", {"request_url": "http://gis.example.com/arcgis/rest"})
    assert problem.severity == "error" and problem.insecure
    problems = check_target("gpjob", {"task_url": "https://h.example/t", "poll_interval": "x"})
    assert [p.field for p in problems] == ["poll_interval"]


def test_output_path_checks(tmp_path: Path) -> None:
    assert outputs.check_output_path(str(tmp_path / "a.json"), "output_file") == []
    assert outputs.check_output_path(None, "output_file") == []
    assert (
        "folder not found" in outputs.check_output_path(str(tmp_path / "x" / "a"), "f")[0].message
    )
    assert "is a folder" in outputs.check_output_path(str(tmp_path), "f")[0].message


# -- reporting ----------------------------------------------------------------------------------


def test_safe_reporter_masks_and_clamps() -> None:
    Secret(ALICE_PASSWORD)  # as a Connection registers it
    inner = ListReporter()
    safe = reporting.SafeReporter(inner)
    safe.info("url?token=abcdefghijklmnop&f=json")
    safe.warning(f"password {ALICE_PASSWORD}")
    safe.progress("half", 250.0)
    assert inner.infos == [f"url?token={MASK}&f=json"]
    assert ALICE_PASSWORD not in inner.warnings[0]
    assert inner.progress_calls == [("half", 100.0)]


def test_forward_logs_only_inside_the_block() -> None:
    reporter = ListReporter()
    log = logging.getLogger("arctoken_core.sometest")
    with reporting.forward_logs(reporter):
        log.warning("proxy slow, token=%s", "abcdefghijklmnopqrst")
        log.info("not shown at the default level")
    log.warning("after the block")
    assert reporter.warnings == [f"proxy slow, token={MASK}"]
    assert reporter.infos == []


def test_issue_token_messages_and_file(conn: Connection, tmp_path: Path) -> None:
    reporter = ListReporter()
    issued = generate.issue_token(conn, reporter, str(tmp_path / "t.json"))
    assert issued.url == conn.target_url and issued.referer == "arctokentools"
    assert json.loads((tmp_path / "t.json").read_text())["token"] == issued.value
    assert any(f"as {ALICE}" in m and "valid until" in m for m in reporter.infos)
    assert issued.value not in reporter.everything()
    assert "value" not in repr(issued) or issued.value not in repr(issued)


# -- the script target ---------------------------------------------------------------------------

CONTEXT_SCRIPT = """
import helper_beside


def main(ctx):
    ctx.message("token " + ctx.token())
    ctx.progress("working", 50)
    return {
        "args": ctx.args,
        "url": ctx.url,
        "target_url": ctx.target_url,
        "referer": ctx.referer,
        "helper": helper_beside.VALUE,
        "echo": {"token": ctx.token(), "list": ["x", ctx.token()]},
    }
"""


def test_script_context_and_masked_result(conn: Connection, emu: Emulator, tmp_path: Path) -> None:
    (tmp_path / "helper_beside.py").write_text("VALUE = 42\n")
    script = _script(tmp_path, CONTEXT_SCRIPT)
    reporter = ListReporter()
    before = list(sys.path)
    outcome = run_to_file(
        conn, ScriptTarget(script, "main", {"k": "v"}), str(tmp_path / "o.json"), reporter
    )
    assert sys.path == before
    assert not any(name.startswith("arctoken_script_") for name in sys.modules)
    data = _outcome(tmp_path / "o.json")
    assert data["result"]["args"] == {"k": "v"} and data["result"]["helper"] == 42
    assert data["result"]["url"] == emu.server_url == data["result"]["target_url"]
    assert data["result"]["referer"] == "arctokentools"
    assert data["result"]["echo"] == {"token": MASK, "list": ["x", MASK]}
    assert data["tokens_issued"] == 1 and data["token_refreshes"] == 0
    assert outcome.status == "succeeded" and outcome.path == str(tmp_path / "o.json")
    assert ("working", 50.0) in reporter.progress_calls
    assert f"token {MASK}" in reporter.infos
    assert_no_secret((tmp_path / "o.json").read_text() + reporter.everything())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("def main(ctx)\n    return 1\n", "could not be loaded: SyntaxError"),
        ("raise ImportError('no such thing')\n", "could not be loaded: ImportError"),
        ("import sys\n\ndef main(ctx):\n    sys.exit(3)\n", "exited with status 3"),
        ("def main(ctx):\n    return {1, 2}\n", "not JSON-serialisable"),
        ("def main(ctx):\n    return 1 / 0\n", "ZeroDivisionError"),
    ],
)
def test_script_failures(conn: Connection, tmp_path: Path, text: str, words: str) -> None:
    script = _script(tmp_path, text)
    with pytest.raises(ScriptError, match=words):
        run_to_file(conn, ScriptTarget(script), str(tmp_path / "o.json"), ListReporter())
    data = _outcome(tmp_path / "o.json")
    assert data["status"] == "failed" and words.split(":")[-1].strip() in data["error"]


def test_script_traceback_starts_in_the_script(conn: Connection, tmp_path: Path) -> None:
    script = _script(
        tmp_path, "def main(ctx):\n    inner()\n\n\ndef inner():\n    raise KeyError('k')\n"
    )
    with pytest.raises(ScriptError) as caught:
        scripts.run_script(conn, ScriptTarget(script), ListReporter(), Pace(lambda s: None))
    text = str(caught.value)
    assert 'work.py", line 2, in main' in text and "line 6, in inner" in text
    assert "arctoken_core" not in text


def test_sys_exit_zero_is_success(conn: Connection, tmp_path: Path) -> None:
    script = _script(tmp_path, "import sys\n\ndef main(ctx):\n    sys.exit(0)\n")
    outcome = run_to_file(conn, ScriptTarget(script), str(tmp_path / "o.json"), ListReporter())
    assert outcome.status == "succeeded" and outcome.result is None


def test_missing_function(conn: Connection, tmp_path: Path) -> None:
    script = _script(tmp_path, "x = 1\n")
    with pytest.raises(ConfigError) as caught:
        scripts.load_function(script, "main")
    assert caught.value.field == "function_name"
    with pytest.raises(ConfigError):
        scripts.load_function(str(tmp_path / "none.py"), "main")


def test_the_script_template_runs(
    conn: Connection, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    template = str(ROOT / "examples" / "script_template.py")
    target = ScriptTarget(template, "main", {"service_url": emu.service_url, "pause_seconds": 700})
    reporter = ListReporter()
    outcome = run_to_file(
        conn, target, str(tmp_path / "o.json"), reporter, Pace(clock.advance, clock)
    )
    assert outcome.result == {"service": emu.service_url, "counts": {"Points": 2}}
    assert outcome.finished > outcome.started  # the pause moved the clock, nobody slept
    assert any("Counted 1 layer" in m for m in reporter.infos)


def test_the_template_explains_a_missing_argument(conn: Connection, tmp_path: Path) -> None:
    template = str(ROOT / "examples" / "script_template.py")
    with pytest.raises(ScriptError, match="service_url"):
        run_to_file(conn, ScriptTarget(template), str(tmp_path / "o.json"), ListReporter())


# -- the REST and GP job targets ----------------------------------------------------------------


def test_rest_target(conn: Connection, emu: Emulator, tmp_path: Path) -> None:
    target = RestTarget(emu.service_url + "/0/query", "GET", {"where": "1=1"})
    outcome = run_to_file(conn, target, str(tmp_path / "o.json"), ListReporter())
    assert len(outcome.result["features"]) == 2


def test_job_target_across_lifetimes(
    conn: Connection, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    reporter = ListReporter()
    target = JobTarget(emu.gp_task_url, {"duration": 4 * LIFETIME}, poll_interval=60)
    outcome = run_to_file(
        conn, target, str(tmp_path / "o.json"), reporter, Pace(clock.advance, clock)
    )
    assert outcome.result["status"] == "esriJobSucceeded"
    assert outcome.token_refreshes >= 3
    assert sum("refreshed" in m for m in reporter.infos) == outcome.token_refreshes
    assert any("Executing" in label for label, _ in reporter.progress_calls)
    assert any(m.startswith("Job j") and "Processing" in m for m in reporter.infos)


def test_job_failure_and_time_limit(
    conn: Connection, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    reporter = ListReporter()
    failing = JobTarget(emu.gp_task_url, {"fail": True, "duration": 60}, poll_interval=10)
    with pytest.raises(JobFailedError, match="asked to fail"):
        run_to_file(conn, failing, str(tmp_path / "o.json"), reporter, Pace(clock.advance, clock))
    assert any("asked to fail" in m for m in reporter.warnings)
    slow = JobTarget(emu.gp_task_url, {"duration": 600}, poll_interval=10, time_limit=100)
    with pytest.raises(JobTimeoutError):
        run_to_file(conn, slow, str(tmp_path / "o.json"), reporter, Pace(clock.advance, clock))
    assert _outcome(tmp_path / "o.json")["status"] == "failed"


def test_sys_exit_while_loading_is_a_script_error(tmp_path: Path) -> None:
    script = tmp_path / "exits.py"
    script.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(ScriptError) as err:
        scripts.load_function(str(script), "main")
    assert "status 3" in str(err.value)


@pytest.mark.parametrize(
    "text, percent",
    [("Processing 40%", 40.0), ("Step 2 of 4 (50.5 %)", 50.5), ("Working", None), ("250%", None)],
)
def test_percent_in_progress_messages(text: str, percent: Optional[float]) -> None:
    assert job.percent_in(text) == percent


def test_the_time_limit_follows_the_monotonic_timer_not_the_wall_clock(
    conn: Connection, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    """The wall clock jumps back an hour mid-job (NTP, a manual change): the 100 s limit
    still ends the job after about 100 s of real waiting."""
    timer = ManualClock(0.0)
    jumped: List[bool] = []

    def sleep(seconds: float) -> None:
        if not jumped:
            clock.set(clock() - 3600)
            jumped.append(True)
        clock.advance(seconds)
        timer.advance(seconds)

    slow = JobTarget(emu.gp_task_url, {"duration": 600}, poll_interval=10, time_limit=100)
    with pytest.raises(JobTimeoutError):
        run_to_file(conn, slow, str(tmp_path / "o.json"), ListReporter(), Pace(sleep, timer))
    assert 100 <= timer() <= 100 + 10 * 6  # the limit, then the cancel's few polls
    assert any(r.path.endswith("/cancel") for r in emu.requests)


def test_a_cancelled_job_is_cancelled_on_the_server_and_the_outcome_says_so(
    conn: Connection, emu: Emulator, clock: ManualClock, tmp_path: Path
) -> None:
    from arctoken_core.run.pacing import RunCancelled

    reporter = ListReporter()
    pace = Pace(clock.advance, clock, cancelled=lambda: clock() > start + 45)
    start = clock()
    target = JobTarget(emu.gp_task_url, {"duration": 600}, poll_interval=10)
    with pytest.raises(RunCancelled, match="cancelled by the user; job j.* cancelled on the"):
        run_to_file(conn, target, str(tmp_path / "o.json"), reporter, pace)
    assert clock() - start < 60  # noticed within the poll interval, not at the job's end
    assert [r.path for r in emu.requests if r.path.endswith("/cancel")] != []
    data = _outcome(tmp_path / "o.json")
    assert data["status"] == "cancelled" and "cancelled by the user" in data["error"]
    assert any("Cancelled by the user" in m for m in reporter.warnings)


def test_a_cancelled_script_stops_at_its_next_sleep(
    conn: Connection, clock: ManualClock, tmp_path: Path
) -> None:
    from arctoken_core.run.pacing import RunCancelled

    script = _script(
        tmp_path,
        "def main(ctx):\n"
        "    for n in range(100):\n"
        "        ctx.sleep(10)\n"
        "        ctx.message(f'round {n}')\n",
    )
    start = clock()
    reporter = ListReporter()
    pace = Pace(clock.advance, clock, cancelled=lambda: clock() > start + 25)
    with pytest.raises(RunCancelled):
        run_to_file(conn, ScriptTarget(script), str(tmp_path / "o.json"), reporter, pace)
    assert [m for m in reporter.infos if m.startswith("round")] == ["round 0", "round 1"]
    assert _outcome(tmp_path / "o.json")["status"] == "cancelled"


def test_a_script_that_checks_ctx_cancelled_ends_cancelled(
    conn: Connection, clock: ManualClock, tmp_path: Path
) -> None:
    from arctoken_core.run.pacing import RunCancelled

    script = _script(tmp_path, "def main(ctx):\n    return {'seen': ctx.cancelled}\n")
    pace = Pace(clock.advance, clock, cancelled=lambda: True)
    with pytest.raises(RunCancelled):
        run_to_file(conn, ScriptTarget(script), str(tmp_path / "o.json"), ListReporter(), pace)
    data = _outcome(tmp_path / "o.json")
    assert data["status"] == "cancelled" and data["result"] == {"seen": True}


@pytest.mark.parametrize("depth", [150, 100_000])
def test_deeply_nested_json_is_a_config_error(depth: int) -> None:
    text = "[" * depth + "]" * depth
    with pytest.raises(ConfigError, match="job_parameters.*nested more than 100 levels"):
        parse_json_object('{"a": ' + text + "}", "job_parameters")
    problems = check_target("gpjob", {"task_url": "https://a.example/t", "job_parameters": text})
    assert [p.field for p in problems] == ["job_parameters"]


def test_json_nested_to_the_limit_is_fine() -> None:
    text = "[" * 99 + "]" * 99
    assert parse_json_object('{"a": ' + text + "}", "f") == {"a": json.loads(text)}


def test_an_unwritable_outcome_file_is_a_config_error_naming_it(
    conn: Connection, tmp_path: Path
) -> None:
    script = _script(tmp_path, "def main(ctx):\n    return 1\n")
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")  # unwritable for root too: its "folder" is a file
    with pytest.raises(ConfigError, match="output_file: cannot write .*o.json"):
        run_to_file(conn, ScriptTarget(script), str(not_a_folder / "o.json"), ListReporter())


def test_an_unwritable_token_file_is_a_config_error_naming_it(
    conn: Connection, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="token_file: cannot write"):
        generate.issue_token(conn, ListReporter(), str(tmp_path / "no-such-folder" / "t.json"))


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles", "UTC"])
def test_local_times_have_no_microseconds_and_survive_year_9999(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time as _time

    monkeypatch.setenv("TZ", zone)
    _time.tzset()
    try:
        shown = reporting.local_time(253402300799.0)  # 9999-12-31 23:59:59 UTC
        assert shown.startswith(("9999-12-31", "9999-12-31 23:59:59 (UTC)"))
        assert "." not in shown
        ordinary = reporting.local_time(1_800_000_000.25)
        assert "." not in ordinary and "(UTC" in ordinary
        assert reporting.local_time(None) == "no expiry"
    finally:
        monkeypatch.delenv("TZ")
        _time.tzset()
