"""The tools' behaviour over anything shaped like an ``arcpy.Parameter``.

``ArcTokenTools.pyt`` hands validation and execution to these functions, so everything the
toolbox does is testable without arcpy. The parameters themselves are data in
:mod:`arctoken_core.toolbox.spec`. Importing this module is cheap (standard library only); the
network code is imported only when a tool validates or runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Tuple,
)

from ..urls import ONLINE_URL
from .profile_choice import PROFILE, fill_profiles, with_profile_problems
from .spec import (
    DERIVED,
    GENERATE_TOKEN,
    ONLINE_DEFAULT_KINDS,
    ParamSpec,
    ToolSpec,
    connection_params,
)

if TYPE_CHECKING:
    from ..clock import Clock
    from ..connection import Connection
    from ..fields import Problem
    from ..run.reporting import Reporter


class ParameterLike(Protocol):
    """The part of ``arcpy.Parameter`` these functions use."""

    name: str
    displayName: str  # noqa: N815 - arcpy's spelling
    value: Any
    enabled: bool
    altered: bool
    hasBeenValidated: bool  # noqa: N815 - arcpy's spelling

    @property
    def valueAsText(self) -> Optional[str]:  # noqa: N802 - arcpy's spelling
        """The value as text, None when empty."""
        ...

    def setErrorMessage(self, message: str) -> None:  # noqa: N802 - arcpy's spelling
        """Mark the parameter as in error."""
        ...

    def setWarningMessage(self, message: str) -> None:  # noqa: N802 - arcpy's spelling
        """Mark the parameter with a warning."""
        ...

    def setIDMessage(  # noqa: N802 - arcpy's spelling
        self,
        messageType: str,  # noqa: N803 - arcpy's spelling
        messageID: int,  # noqa: N803 - arcpy's spelling
        AddArgument1: Any = None,  # noqa: N803 - arcpy's spelling
    ) -> None:
        """Set one of ArcGIS's own messages by number."""
        ...

    def hasError(self) -> bool:  # noqa: N802 - arcpy's spelling
        """True when the parameter has an error."""
        ...


Values = Dict[str, Any]
VALUE_REQUIRED = 735
"""Geoprocessing message 000735, ``<label>: Value is required``."""
_NATIVE = ("GPBoolean", "GPLong", "GPDouble", "GPDate")
"""Types whose ``.value`` is used; everything else is read as text (files, strings)."""


def _by_name(params: Sequence[ParameterLike]) -> Dict[str, ParameterLike]:
    return {p.name: p for p in params}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_value(spec: ParamSpec, param: ParameterLike) -> Any:
    """A parameter's value as the code uses it: codes for value lists, text for files."""
    raw = param.value if spec.datatype in _NATIVE else param.valueAsText
    return None if _blank(raw) else spec.code_of(raw)


def values_of(tool: ToolSpec, params: Sequence[ParameterLike]) -> Values:
    """Every input parameter of ``tool`` by name (None when empty)."""
    found = _by_name(params)
    return {s.name: read_value(s, found[s.name]) for s in tool.params if s.name in found}


def selected(values: Mapping[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """The chosen connection kind and run target codes."""
    return values.get("connection_type"), values.get("target_type")


def connection_kwargs(values: Mapping[str, Any]) -> Values:
    """Keyword arguments for Connection from the values the chosen kind uses."""
    kind, _ = selected(values)
    kwargs: Values = {"kind": kind}
    for spec in connection_params()[1:]:
        value = values.get(spec.name)
        if spec.field and spec.uses(kind, None) and not _blank(value):
            kwargs[spec.field] = value
    return kwargs


def update_parameters(
    tool: ToolSpec, params: Sequence[ParameterLike], active_portal: Callable[[], str]
) -> None:
    """Enable only what the chosen connection type and target use; fill the URL default."""
    values = values_of(tool, params)
    kind, target = selected(values)
    found = _by_name(params)
    for spec in tool.params:
        if spec.name in found and not spec.is_output:
            found[spec.name].enabled = spec.uses(kind, target)
    if kind == PROFILE and PROFILE in found:
        fill_profiles(found[PROFILE])
    choice = found["connection_type"]
    if choice.altered and not choice.hasBeenValidated:
        _fill_url(found["url"], kind, active_portal)


def _fill_url(param: ParameterLike, kind: Optional[str], active_portal: Callable[[], str]) -> None:
    """Put the chosen kind's default URL in place of an empty or earlier default one."""
    portal = _safe_portal(active_portal)
    current = param.valueAsText
    if not _blank(current) and current not in (ONLINE_URL, portal):
        return
    default = ONLINE_URL if kind in ONLINE_DEFAULT_KINDS else portal if kind == "pro" else None
    param.value = default or None


def _safe_portal(active_portal: Callable[[], str]) -> Optional[str]:
    try:
        url = active_portal()
    except Exception:  # noqa: BLE001 - a failing lookup just means no default
        return None
    return str(url) if url else None


def update_messages(tool: ToolSpec, params: Sequence[ParameterLike]) -> None:
    """Show every problem of the current values on the parameter it is about."""
    values = values_of(tool, params)
    found = _by_name(params)
    touched = any(p.altered for p in params)
    for problem in problems_of(tool, values):
        _show(tool, found, problem, touched)


def problems_of(tool: ToolSpec, values: Mapping[str, Any]) -> List[Problem]:
    """Errors and warnings of ``values`` for ``tool`` (no network access)."""
    from ..fields import check
    from ..run.outputs import check_output_path
    from ..run.targets import check_target

    problems = check(connection_kwargs(values))
    if selected(values)[0] == PROFILE and any(s.name == PROFILE for s in tool.params):
        problems = with_profile_problems(problems)
    for spec in tool.params:
        if spec.parameter_type != DERIVED and spec.is_output:
            problems += check_output_path(values.get(spec.name), spec.name)
    if any(s.name == "target_type" for s in tool.params):
        _, target = selected(values)
        problems += check_target(target, values)
    return problems


def _param_for(tool: ToolSpec, field: str) -> str:
    for spec in tool.params:
        if spec.field == field or spec.name == field:
            return spec.name
    return tool.params[0].name


def _labelled(tool: ToolSpec, field: str, message: str) -> str:
    """``message`` prefixed with the label of the parameter ``field`` names (else the field)."""
    name = _param_for(tool, field)
    known = name != tool.params[0].name or field == tool.params[0].field
    return f"{tool.param(name).label}: {message}" if known else f"{field}: {message}"


def _show(
    tool: ToolSpec, found: Mapping[str, ParameterLike], problem: Problem, touched: bool
) -> None:
    """Put ``problem`` on its parameter, to Esri's conventions for script tools.

    A fresh dialog (nothing changed yet) shows nothing, as Pro's own tools do. Then a value
    the chosen connection type or target needs but that is empty gets Pro's own message,
    ``ERROR 000735: <label>: Value is required`` (these parameters are Optional, because a
    parameter's type cannot change after it is created); other errors are errors.
    """
    from ..secrets import redact

    if not touched:
        return
    param = found[_param_for(tool, problem.field)]
    if problem.message.startswith("is required") and _blank(param.valueAsText):
        param.setIDMessage("ERROR", VALUE_REQUIRED, param.displayName)
    elif problem.severity == "error":
        param.setErrorMessage(redact(_labelled(tool, problem.field, problem.message)))
    elif not param.hasError():
        param.setWarningMessage(redact(_labelled(tool, problem.field, problem.message)))


def set_outputs(params: Sequence[ParameterLike], outputs: Mapping[str, Any]) -> None:
    """Set the derived outputs named in ``outputs``."""
    found = _by_name(params)
    for name, value in outputs.items():
        found[name].value = value


# -- running the tools --------------------------------------------------------------------


@dataclass
class Host:
    """What a tool run needs from its host (ArcGIS Pro, or a test).

    ``signin`` and ``active_portal`` are ``arcpy.GetSigninToken`` and
    ``arcpy.GetActivePortalURL`` inside Pro; ``cancelled`` reads ``arcpy.env.isCancelled``;
    ``clock`` and ``sleep`` let tests move time (the clock then also times GP jobs).
    """

    reporter: Reporter
    signin: Optional[Callable[[], Optional[Dict[str, Any]]]] = None
    active_portal: Optional[Callable[[], str]] = None
    clock: Optional[Clock] = None
    sleep: Callable[[float], object] = time.sleep
    cancelled: Optional[Callable[[], bool]] = None


def build_connection(values: Mapping[str, Any], host: Host) -> Connection:
    """The Connection the values describe (raises ConfigError naming the field)."""
    from ..connection import Connection

    kwargs = connection_kwargs(values)
    if kwargs["kind"] == "pro" and not kwargs.get("url") and host.active_portal is not None:
        kwargs["url"] = _safe_portal(host.active_portal)
    # The shared cache is on: tools running in parallel (batch, ModelBuilder branches,
    # several Pro sessions) share one sign-in per refresh instead of one each.
    return Connection(**kwargs, signin=host.signin, clock=host.clock, cache=True)


def execute(tool: ToolSpec, params: Sequence[ParameterLike], host: Host) -> Values:
    """Run ``tool`` with the parameters' values, set its derived outputs and return them."""
    values = values_of(tool, params)
    run = _generate_token if tool.name == GENERATE_TOKEN.name else _run_with_credentials
    outputs = run(values, host)
    set_outputs(params, outputs)
    return outputs


def _generate_token(values: Mapping[str, Any], host: Host) -> Values:
    from ..run.generate import issue_token

    conn = build_connection(values, host)
    try:
        issued = issue_token(conn, host.reporter, values.get("token_file"))
    finally:
        conn.close()
    if issued.token_file:
        host.reporter.info("Token output left empty: geoprocessing history would keep it.")
    return {
        "token": "" if issued.token_file else issued.value,
        "expires": issued.expires_local,
        "token_referer": issued.referer,
        "token_url": issued.url,
    }


def _run_with_credentials(values: Mapping[str, Any], host: Host) -> Values:
    from ..run.outcome import run_to_file
    from ..run.pacing import Pace
    from ..run.targets import target_from_values

    _, target_type = selected(values)
    target = target_from_values(target_type, values)
    conn = build_connection(values, host)
    pace = Pace(host.sleep, host.clock or time.monotonic, host.cancelled)
    try:
        outcome = run_to_file(conn, target, str(values["output_file"]), host.reporter, pace)
    finally:
        conn.close()
    return {"result_file": outcome.path, "token_refreshes": outcome.token_refreshes}


def error_text(exc: BaseException, tool: Optional[ToolSpec] = None) -> str:
    """What the tool shows for ``exc``: the message of expected errors, else a masked trace.

    A ConfigError is shown with the label of the parameter it is about.
    """
    from ..errors import ArcTokenError, ConfigError
    from ..secrets import redact

    if isinstance(exc, ConfigError) and tool is not None:
        return redact(_labelled(tool, exc.field, exc.reason))
    if isinstance(exc, ArcTokenError):
        return redact(str(exc))
    import traceback

    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return redact(f"Unexpected error (please report it): {exc!r}\n{trace}")
