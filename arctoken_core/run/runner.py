"""Run with Credentials: a Python script, a REST request or a GP service job, kept signed in.

Everything here runs without arcpy: the toolbox adapts ArcGIS Pro's messages and progressor
to the small :class:`Reporter` protocol, and tests use a list. Every text that reaches a
reporter or a file passes through :func:`arctoken_core.secrets.redact` first.

Outcome files: once the target has started, the outcome is written as JSON whether it
succeeded or failed (``status`` says which, ``error`` says why), so a model never reads the
result of an earlier run by mistake. The file is written to a temporary file beside it and
moved into place (``os.replace``): it is whole or absent, never half-written. Bad parameters
stop the tool before the target starts, and then nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
import logging
import math
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ContextManager,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Union,
)
from urllib.parse import urlsplit

from ..errors import ArcTokenError, ConfigError
from ..files import write_json_private
from ..secrets import log_to, mask_token, redact
from ..tokens.token import iso_utc, token_document
from .gpjob import GPJob, JobStatus

if TYPE_CHECKING:
    import requests

    from ..connection import Connection
    from ..fields import Problem
    from ..tokens.token import Token


TARGET_LABELS = {
    "script": "Python script",
    "rest": "REST request",
    "gpjob": "Geoprocessing service job",
}
"""Run targets: codes to the labels the toolbox shows."""

METHODS = ("GET", "POST")
Sleep = Callable[[float], object]
"""A ``time.sleep``-like callable (``ManualClock.advance`` in tests)."""


class Reporter(Protocol):
    """Where a run reports to: ArcGIS Pro's messages and progressor, a terminal, a test."""

    def info(self, message: str) -> None:
        """An informative message."""
        ...

    def warning(self, message: str) -> None:
        """A warning message."""
        ...

    def progress(self, label: str, percent: Optional[float] = None) -> None:
        """What is happening now, and how far along (0-100) when known."""
        ...


class SafeReporter:
    """A Reporter that masks tokens and passwords before passing text on."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner

    def info(self, message: str) -> None:
        """Pass on a redacted informative message."""
        self.inner.info(redact(str(message)))

    def warning(self, message: str) -> None:
        """Pass on a redacted warning."""
        self.inner.warning(redact(str(message)))

    def progress(self, label: str, percent: Optional[float] = None) -> None:
        """Pass on a redacted progress label; percent is clamped to 0-100."""
        value = None if percent is None else max(0.0, min(100.0, float(percent)))
        self.inner.progress(redact(str(label)), value)


class ScriptError(ArcTokenError):
    """The user's script raised, or returned something that is not JSON."""


# -- targets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptTarget:
    """Call ``function(ctx)`` of the Python file ``path``."""

    path: str
    function: str = "main"
    args: Dict[str, Any] = field(default_factory=dict)
    kind: str = "script"

    def describe(self) -> Dict[str, Any]:
        """The target as recorded in the outcome file."""
        return {"type": self.kind, "script": self.path, "function": self.function}


@dataclass(frozen=True)
class RestTarget:
    """One REST request; its JSON reply is the result."""

    url: str
    method: str = "GET"
    params: Dict[str, Any] = field(default_factory=dict)
    kind: str = "rest"

    def describe(self) -> Dict[str, Any]:
        """The target as recorded in the outcome file."""
        return {"type": self.kind, "url": self.url, "method": self.method}


@dataclass(frozen=True)
class JobTarget:
    """One asynchronous GP job, followed to its end."""

    task_url: str
    params: Dict[str, Any] = field(default_factory=dict)
    poll_interval: float = 2.0
    time_limit: Optional[float] = None
    kind: str = "gpjob"

    def describe(self) -> Dict[str, Any]:
        """The target as recorded in the outcome file."""
        return {"type": self.kind, "task_url": self.task_url}


Target = Union[ScriptTarget, RestTarget, JobTarget]


def parse_json_object(raw: Any, field_name: str) -> Dict[str, Any]:
    """A JSON object typed by the user (empty: ``{}``); ConfigError naming the field otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(str(raw))
    except ValueError as exc:
        raise ConfigError(field_name, f"is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ConfigError(field_name, 'must be a JSON object such as {"name": "value"}')
    return value


def target_from_values(target: Optional[str], values: Mapping[str, Any]) -> Target:
    """The Target described by the toolbox's values; ConfigError for the first bad one."""
    for problem in check_target(target, values):
        if problem.severity == "error":
            raise problem.as_error()
    if target == "script":
        return ScriptTarget(
            str(values["script_file"]),
            str(values.get("function_name") or "main"),
            parse_json_object(values.get("script_arguments"), "script_arguments"),
        )
    if target == "rest":
        return RestTarget(
            str(values["request_url"]),
            str(values.get("request_method") or "GET").upper(),
            parse_json_object(values.get("request_parameters"), "request_parameters"),
        )
    limit = values.get("time_limit")
    return JobTarget(
        str(values["task_url"]),
        parse_json_object(values.get("job_parameters"), "job_parameters"),
        float(values.get("poll_interval") or 2.0),
        float(limit) if limit is not None else None,
    )


def check_target(target: Optional[str], values: Mapping[str, Any]) -> List[Problem]:
    """Every problem with the target's values (no network access, no script loading)."""
    from ..fields import Problem

    checks: Dict[str, Callable[[Mapping[str, Any]], List[Problem]]] = {
        "script": _check_script,
        "rest": _check_rest,
        "gpjob": _check_job,
    }
    if target not in checks:
        return [Problem("target_type", f"must be one of: {', '.join(TARGET_LABELS.values())}")]
    return checks[target](values)


def _required(values: Mapping[str, Any], name: str, what: str) -> List[Problem]:
    from ..fields import Problem

    value = values.get(name)
    if value is None or not str(value).strip():
        return [Problem(name, f"is required: give {what}")]
    return []


def _json_problems(values: Mapping[str, Any], name: str) -> List[Problem]:
    from ..fields import Problem

    try:
        parse_json_object(values.get(name), name)
    except ConfigError as exc:
        return [Problem(name, exc.reason)]
    return []


def _check_script(values: Mapping[str, Any]) -> List[Problem]:
    from ..fields import Problem

    problems = _required(values, "script_file", "the .py file to run")
    path = values.get("script_file")
    if path and not os.path.isfile(str(path)):
        problems.append(Problem("script_file", f"file not found: {path}"))
    function = str(values.get("function_name") or "main")
    if not function.isidentifier():
        problems.append(Problem("function_name", f"is not a Python function name: {function!r}"))
    return problems + _json_problems(values, "script_arguments")


def _check_url(values: Mapping[str, Any], name: str, what: str) -> List[Problem]:
    from ..fields import Problem, check_scheme

    problems = _required(values, name, what)
    if problems:
        return problems
    text = str(values[name]).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return [Problem(name, f"is not a valid URL: {text!r}")]
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        return [Problem(name, f"must be a full URL starting with https:// (got {text!r})")]
    return check_scheme(text, name, allow_loopback=True)


def _check_rest(values: Mapping[str, Any]) -> List[Problem]:
    from ..fields import Problem

    problems = _check_url(values, "request_url", "the URL of the REST endpoint")
    method = str(values.get("request_method") or "GET").upper()
    if method not in METHODS:
        problems.append(Problem("request_method", f"must be GET or POST (got {method!r})"))
    return problems + _json_problems(values, "request_parameters")


def _check_job(values: Mapping[str, Any]) -> List[Problem]:
    from ..fields import Problem

    problems = _check_url(values, "task_url", "the URL of the geoprocessing task")
    problems += _json_problems(values, "job_parameters")
    for name in ("poll_interval", "time_limit"):
        value = values.get(name)
        if value is not None and not _positive(value):
            problems.append(Problem(name, f"must be a number of seconds above 0 (got {value})"))
    return problems


def _positive(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number > 0


def check_output_path(path: Any, field_name: str) -> List[Problem]:
    """Problems with an output file path: its folder must exist."""
    from ..fields import Problem

    if path is None or not str(path).strip():
        return []
    folder = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(folder):
        return [Problem(field_name, f"folder not found: {folder}")]
    if os.path.isdir(str(path)):
        return [Problem(field_name, f"is a folder, not a file: {path}")]
    return []


# -- files ------------------------------------------------------------------------------


def _local(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).astimezone().isoformat()


# -- Generate Token ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """Generate Token's outputs."""

    value: str = field(repr=False)
    expires_at: float
    referer: Optional[str]
    url: str
    token_file: Optional[str] = None

    @property
    def expires_local(self) -> dt.datetime:
        """The expiry as a naive local datetime (how ArcGIS Pro shows dates)."""
        return dt.datetime.fromtimestamp(self.expires_at)


def who(conn: Connection) -> str:
    """Who signs in, for messages: the user, the app, the key or Pro's user."""
    if conn.kind == "pro":
        return "ArcGIS Pro's signed-in user"
    if conn.kind == "apikey":
        return "an API key"
    if conn.kind == "app":
        return f"app {conn.client_id}"
    return str(conn.username)


def issue_token(
    conn: Connection, reporter: Reporter, token_file: Optional[str] = None
) -> IssuedToken:
    """Sign in, report who signed in where and until when, and write the token file if asked."""
    safe = SafeReporter(reporter)
    with forward_logs(safe):
        token = conn.token_info()
    minutes = (token.expires_at - conn.clock()) / 60
    safe.info(
        f"Signed in to {conn.target_url} as {who(conn)}: token {mask_token(token.value)} "
        f"valid until {_local(token.expires_at)} ({minutes:.0f} minutes from now)."
    )
    written = None
    if token_file:
        written = write_json_private(token_file, token_document(token, conn.target_url))
        safe.info(f"Token written to {written} (readable only by you).")
    return IssuedToken(token.value, token.expires_at, token.referer, conn.target_url, written)


# -- Run with Credentials -----------------------------------------------------------------


class ScriptContext:
    """What a script's function receives: a signed-in session and ways to report.

    ``ctx.session`` is a requests.Session that adds a valid token to requests for the portal
    or server (and federated servers), refreshing it as needed; ``ctx.token()`` is a valid
    token for code that must place it itself (send ``ctx.referer`` as the Referer header).
    """

    def __init__(
        self, conn: Connection, args: Dict[str, Any], reporter: Reporter, sleep: Sleep
    ) -> None:
        self._conn = conn
        self._reporter = reporter
        self._sleep = sleep
        self.args = args
        self.url = conn.url
        self.target_url = conn.target_url
        self.session: requests.Session = conn.session()

    def token(self) -> str:
        """A token valid now (refreshed when close to expiry): never print or log it."""
        return self._conn.token()

    @property
    def referer(self) -> Optional[str]:
        """The referer the token is bound to (send it as the Referer header), or None."""
        return self._conn.token_info().referer

    def request_json(
        self, method: str, url: str, params: Optional[Dict[str, Any]] = None
    ) -> Dict[str, Any]:
        """Call an ArcGIS REST endpoint with the token; its JSON, or a typed error."""
        return self._conn.request_json(method, url, params)

    def message(self, text: str) -> None:
        """Show an informative message (tokens and passwords are masked)."""
        self._reporter.info(text)

    def warning(self, text: str) -> None:
        """Show a warning (tokens and passwords are masked)."""
        self._reporter.warning(text)

    def progress(self, label: str, percent: Optional[float] = None) -> None:
        """Show what the script is doing, and how far along (0-100) when known."""
        self._reporter.progress(label, percent)

    def sleep(self, seconds: float) -> None:
        """Wait; use this rather than time.sleep so that tests can move a clock instead."""
        self._sleep(seconds)

    def close(self) -> None:
        """Close the session."""
        self.session.close()


@dataclass
class Outcome:
    """How a run ended, as written to the output file."""

    status: str
    target: Dict[str, Any]
    result: Any
    token_refreshes: int
    tokens_issued: int
    error: Optional[str]
    started: str
    finished: str
    path: str = ""

    def as_json(self) -> Dict[str, Any]:
        """The outcome file's content (without the file's own path)."""
        data = {k: v for k, v in self.__dict__.items() if k != "path"}
        return _redacted(data)  # type: ignore[no-any-return]


def _redacted(value: Any) -> Any:
    """``value`` with every string in it (keys too) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(k)): _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


def run_target(conn: Connection, target: Target, reporter: Reporter, sleep: Sleep) -> Any:
    """Run ``target`` to its end and return its (JSON-serialisable) result."""
    if isinstance(target, ScriptTarget):
        return run_script(conn, target, reporter, sleep)
    if isinstance(target, RestTarget):
        reporter.progress(f"{target.method} {target.url}")
        return conn.request_json(target.method, target.url, target.params)
    return run_job(conn, target, reporter, sleep)


def run_to_file(
    conn: Connection,
    target: Target,
    path: str,
    reporter: Reporter,
    sleep: Sleep = time.sleep,
) -> Outcome:
    """Run ``target``, write its outcome to ``path`` (succeeded or failed) and return it.

    A failure is written (status ``failed``) and then raised again for the tool to show.
    """
    safe = SafeReporter(reporter)
    conn.on_token(_token_listener(conn, safe))
    started = conn.clock()
    error: Optional[BaseException] = None
    result: Any = None
    with forward_logs(safe):
        try:
            result = run_target(conn, target, safe, sleep)
        except Exception as exc:  # noqa: BLE001 - written to the file, then raised again below
            error = exc
    outcome = _outcome(conn, target, result, error, started)
    outcome.path = write_json_private(path, outcome.as_json())
    safe.info(f"Outcome ({outcome.status}) written to {outcome.path}.")
    if error is not None:
        raise error
    return outcome


def _outcome(
    conn: Connection,
    target: Target,
    result: Any,
    error: Optional[BaseException],
    started: float,
) -> Outcome:
    failed = error is not None
    return Outcome(
        status="failed" if failed else "succeeded",
        target=target.describe(),
        result=None if failed else result,
        token_refreshes=conn.refreshes,
        tokens_issued=conn.tokens_issued,
        error=_error_message(error),
        started=iso_utc(started),
        finished=iso_utc(conn.clock()),
    )


def _error_message(error: Optional[BaseException]) -> Optional[str]:
    if error is None:
        return None
    if isinstance(error, ArcTokenError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _token_listener(conn: Connection, reporter: Reporter) -> Callable[[Token, int], None]:
    def listener(token: Token, issued: int) -> None:
        """Say who got a token until when, or that it was refreshed (masked)."""
        until = _local(token.expires_at)
        shown = mask_token(token.value)
        if issued <= 1:
            reporter.info(f"Signed in for {token.audience}: token {shown} valid until {until}.")
        else:
            reporter.info(
                f"Token for {token.audience} refreshed (#{conn.refreshes}): {shown} valid "
                f"until {until}."
            )

    return listener


def forward_logs(reporter: Reporter, level: int = logging.WARNING) -> ContextManager[None]:
    """Show the package's log records (already redacted) as messages while the block runs."""
    return log_to(_ReporterHandler(reporter), level)


class _ReporterHandler(logging.Handler):
    """A logging handler that turns records into reporter messages."""

    def __init__(self, reporter: Reporter) -> None:
        super().__init__()
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        """Send the record on: warnings and worse as warnings, the rest as messages."""
        text = redact(record.getMessage())
        if record.levelno >= logging.WARNING:
            self.reporter.warning(text)
        else:
            self.reporter.info(text)


# -- the Python script target ------------------------------------------------------------


def run_script(conn: Connection, target: ScriptTarget, reporter: Reporter, sleep: Sleep) -> Any:
    """Load the script, call its function with a ScriptContext and return its result."""
    function = load_function(target.path, target.function)
    ctx = ScriptContext(conn, dict(target.args), reporter, sleep)
    reporter.progress(f"Running {os.path.basename(target.path)}:{target.function}")
    try:
        with _script_folder_on_path(target.path):
            result = function(ctx)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise ScriptError(f"the script exited with status {exc.code}") from None
        result = None
    except Exception as exc:  # noqa: BLE001 - any failure of the user's script
        raise _script_error(exc, "the script failed", target.path) from None
    finally:
        ctx.close()
    return _json_result(result)


def load_function(path: str, name: str) -> Callable[[ScriptContext], Any]:
    """Load ``path`` as a fresh module (never cached) and return its function ``name``."""
    if not os.path.isfile(path):
        raise ConfigError("script_file", f"file not found: {path}")
    module = _load_module(path)
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError("function_name", f"{os.path.basename(path)} has no function {name!r}")
    return function  # type: ignore[no-any-return]


def _load_module(path: str) -> ModuleType:
    module_name = f"arctoken_script_{abs(hash((path, time.time_ns())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError("script_file", f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with _script_folder_on_path(path):
            spec.loader.exec_module(module)
    except SystemExit as exc:  # sys.exit() at import must not end the tool without a file
        raise ScriptError(f"the script exited while loading (status {exc.code})") from None
    except Exception as exc:  # noqa: BLE001 - any failure of the user's script
        raise _script_error(exc, "the script could not be loaded", path) from None
    finally:
        sys.modules.pop(module_name, None)
    return module


@contextlib.contextmanager
def _script_folder_on_path(path: str) -> Iterator[None]:
    """Let the script import modules that sit beside it, for the duration of the call."""
    folder = os.path.dirname(os.path.abspath(path))
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        yield
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)


def _script_error(exc: BaseException, what: str, path: str) -> ScriptError:
    """A ScriptError with the traceback from the script's first frame on, masked."""
    trace = _from_script(exc.__traceback__, path)
    lines = traceback.format_exception(type(exc), exc, trace)
    return ScriptError(redact(f"{what}: {type(exc).__name__}: {exc}\n{''.join(lines)}".rstrip()))


def _from_script(trace: Optional[TracebackType], path: str) -> Optional[TracebackType]:
    """The traceback from the script's first frame (None when the script has no frame)."""
    script = os.path.normcase(os.path.abspath(path))
    while trace is not None:
        if os.path.normcase(os.path.abspath(trace.tb_frame.f_code.co_filename)) == script:
            return trace
        trace = trace.tb_next
    return None


def _json_result(result: Any) -> Any:
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        raise ScriptError(
            f"the script's return value is not JSON-serialisable ({exc}); return dicts, "
            "lists, strings, numbers, booleans or None"
        ) from None
    return result


# -- the GP service job target -----------------------------------------------------------


def run_job(conn: Connection, target: JobTarget, reporter: Reporter, sleep: Sleep) -> Any:
    """Submit the job, report its messages and progress, and return its results."""
    job = GPJob(
        conn.request_json,
        target.task_url,
        poll_interval=target.poll_interval,
        time_limit=target.time_limit,
        on_status=_job_reporter(reporter),
        sleep=_pause(sleep),
        clock=conn.clock,
    )
    reporter.progress(f"Submitting a job to {target.task_url}")
    result = job.run(target.params)
    reporter.info(f"Job {result.job_id} succeeded.")
    return {
        "job_id": result.job_id,
        "status": result.status,
        "results": result.results,
        "messages": result.messages,
    }


def _pause(sleep: Sleep) -> Callable[[float], None]:
    def pause(seconds: float) -> None:
        """Wait, ignoring what ``sleep`` returns."""
        sleep(seconds)

    return pause


def _job_reporter(reporter: Reporter) -> Callable[[JobStatus], None]:
    def on_status(status: JobStatus) -> None:
        """Show the job's new messages and its state as the progressor label."""
        for text in status.new_messages:
            if text.lower().startswith(("error", "warning")):
                reporter.warning(f"Job {status.job_id}: {text}")
            else:
                reporter.info(f"Job {status.job_id}: {text}")
        state = status.status.replace("esriJob", "")
        label = f"Job {status.job_id}: {state} ({status.elapsed:.0f} s)"
        if status.progress:
            reporter.progress(f"{label}: {status.progress}", percent_in(status.progress))
        else:
            reporter.progress(label)

    return on_status


_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")


def percent_in(text: str) -> Optional[float]:
    """The percentage a progress message states ("Processing 40%"), for the progressor."""
    match = _PERCENT.search(text)
    if match is None:
        return None
    value = float(match.group(1))
    return value if 0 <= value <= 100 else None
