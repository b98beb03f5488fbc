"""Run with Credentials targets: their types, how the toolbox's values make one, their checks.

Importing this module is cheap (standard library only): the tool dialog validates through
:func:`check_target` on every change, without loading the job runner or the network code.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Union
from urllib.parse import urlsplit

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..fields import Problem

__all__ = [
    "METHODS",
    "TARGET_LABELS",
    "JobTarget",
    "RestTarget",
    "ScriptTarget",
    "Target",
    "check_target",
    "parse_json_object",
    "target_from_values",
]


TARGET_LABELS = {
    "script": "Python script",
    "rest": "REST request",
    "gpjob": "Geoprocessing service job",
}
"""Run targets: codes to the labels the toolbox shows."""

METHODS = ("GET", "POST")

MAX_DEPTH = 100
"""Deepest nesting of a JSON parameter: far beyond any real one, far from Python's limits."""


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
    except RecursionError:
        raise _too_deep(field_name) from None
    if _depth(value) > MAX_DEPTH:
        raise _too_deep(field_name)
    if not isinstance(value, dict):
        raise ConfigError(field_name, 'must be a JSON object such as {"name": "value"}')
    return value


def _too_deep(field_name: str) -> ConfigError:
    return ConfigError(field_name, f"is nested more than {MAX_DEPTH} levels deep; flatten it")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), without recursion."""
    deepest, level = 0, [(value, 0)]
    while level:
        item, depth = level.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            level.extend((child, depth + 1) for child in children)
    return deepest


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
