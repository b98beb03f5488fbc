"""The Python script target: load the user's script fresh, call its function, check its result.

The function receives a :class:`ScriptContext`: a signed-in session, a valid token on demand,
ways to report, and a sleep that notices a cancelled run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import time
import traceback
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Optional

from ..errors import ArcTokenError, ConfigError
from ..secrets import redact
from .pacing import Pace, RunCancelled
from .targets import ScriptTarget

if TYPE_CHECKING:
    import requests

    from ..connection import Connection
    from .reporting import Reporter

__all__ = ["ScriptContext", "ScriptError", "load_function", "run_script"]


class ScriptError(ArcTokenError):
    """The user's script raised, or returned something that is not JSON."""


class ScriptContext:
    """What a script's function receives: a signed-in session and ways to report.

    ``ctx.session`` is a requests.Session that adds a valid token to requests for the portal
    or server (and federated servers), refreshing it as needed; ``ctx.token()`` is a valid
    token for code that must place it itself (send ``ctx.referer`` as the Referer header).
    """

    def __init__(
        self,
        conn: Connection,
        args: Dict[str, Any],
        reporter: Reporter,
        pace: Optional[Pace] = None,
    ) -> None:
        self._conn = conn
        self._reporter = reporter
        self._pace = pace or Pace()
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
        """Wait; use this rather than time.sleep: tests can move a clock instead, and a run
        cancelled in ArcGIS Pro stops here (the tool then writes its outcome and fails)."""
        self._pace.wait(seconds)

    @property
    def cancelled(self) -> bool:
        """True once the user has cancelled the tool: stop soon, tidy up, return or raise."""
        return self._pace.is_cancelled()

    def close(self) -> None:
        """Close the session."""
        self.session.close()


def run_script(conn: Connection, target: ScriptTarget, reporter: Reporter, pace: Pace) -> Any:
    """Load the script, call its function with a ScriptContext and return its result."""
    function = load_function(target.path, target.function)
    ctx = ScriptContext(conn, dict(target.args), reporter, pace)
    reporter.progress(f"Running {os.path.basename(target.path)}:{target.function}")
    try:
        with _script_folder_on_path(target.path):
            result = function(ctx)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise ScriptError(f"the script exited with status {exc.code}") from None
        result = None
    except RunCancelled:
        raise
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
