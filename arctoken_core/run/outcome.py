"""Run with Credentials: run a target to its end and write its outcome file.

Once the target has started, the outcome is written as JSON whether it succeeded, failed or
was cancelled (``status`` says which, ``error`` says why), so a model never reads the result
of an earlier run by mistake. The file is written to a temporary file beside it and moved
into place: it is whole or absent, never half-written. Bad parameters stop the tool before
the target starts, and then nothing is written. Every string in it is redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional

from ..errors import ArcTokenError
from ..secrets import redact
from ..tokens.token import iso_utc
from .outputs import write_output
from .pacing import Pace, RunCancelled
from .reporting import Reporter, SafeReporter, forward_logs, token_listener
from .targets import RestTarget, ScriptTarget, Target

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["Outcome", "run_target", "run_to_file"]


@dataclass
class Outcome:
    """How a run ended, as written to the output file.

    ``status`` is ``succeeded``, ``failed`` or ``cancelled``.
    """

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
        """The outcome file's content (without the file's own path), every string redacted."""
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


def run_target(conn: Connection, target: Target, reporter: Reporter, pace: Pace) -> Any:
    """Run ``target`` to its end and return its (JSON-serialisable) result."""
    if isinstance(target, ScriptTarget):
        from .script import run_script

        return run_script(conn, target, reporter, pace)
    if isinstance(target, RestTarget):
        reporter.progress(f"{target.method} {target.url}")
        return conn.request_json(target.method, target.url, target.params)
    from .job import run_job

    return run_job(conn, target, reporter, pace)


def run_to_file(
    conn: Connection,
    target: Target,
    path: str,
    reporter: Reporter,
    pace: Optional[Pace] = None,
) -> Outcome:
    """Run ``target``, write its outcome to ``path`` (whatever happened) and return it.

    A failure or a cancel is written (status ``failed`` or ``cancelled``) and then raised
    again for the tool to show. A file that cannot be written is a ConfigError naming
    ``output_file``.
    """
    pace = pace or Pace()
    safe = SafeReporter(reporter)
    conn.on_token(token_listener(safe, lambda: conn.refreshes))
    started = conn.clock()
    error: Optional[BaseException] = None
    result: Any = None
    with forward_logs(safe):
        try:
            result = run_target(conn, target, safe, pace)
            pace.check()
        except Exception as exc:  # noqa: BLE001 - written to the file, then raised again below
            error = exc
    outcome = _outcome(conn, target, result, error, started)
    outcome.path = write_output(path, outcome.as_json(), "output_file")
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
    return Outcome(
        status=_status(error),
        target=target.describe(),
        result=result if error is None or isinstance(error, RunCancelled) else None,
        token_refreshes=conn.refreshes,
        tokens_issued=conn.tokens_issued,
        error=_error_message(error),
        started=iso_utc(started),
        finished=iso_utc(conn.clock()),
    )


def _status(error: Optional[BaseException]) -> str:
    if error is None:
        return "succeeded"
    return "cancelled" if isinstance(error, RunCancelled) else "failed"


def _error_message(error: Optional[BaseException]) -> Optional[str]:
    if error is None:
        return None
    if isinstance(error, ArcTokenError):
        return str(error)
    return f"{type(error).__name__}: {error}"
