"""ArcTokenTools: Generate Token and Run with Credentials for ArcGIS Pro and ModelBuilder.

Thin arcpy glue. The parameters are defined once, as data, in
``arctoken_core/toolbox/spec.py``; validation and execution in
``arctoken_core/toolbox/behaviour.py``. The package sits beside this file and is put on
``sys.path`` here, so nothing needs installing into ArcGIS Pro's read-only environment.
Nothing heavy (requests, the connection code) is imported until a tool validates or runs.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, List, Optional

import arcpy

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from arctoken_core.toolbox import behaviour as toolbox  # noqa: E402 - needs the folder above
from arctoken_core.toolbox import spec as toolspec  # noqa: E402


class Toolbox:
    """The ArcTokenTools toolbox (its name is this file's name)."""

    def __init__(self) -> None:
        """Describe the toolbox and list its tools."""
        self.label = toolspec.TOOLBOX.label
        self.alias = toolspec.TOOLBOX.alias
        self.description = toolspec.TOOLBOX.description
        self.tools = [GenerateToken, RunWithCredentials]


class _Reporter:
    """Adapts arcpy's messages and progressor to ``arctoken_core.run.reporting.Reporter``."""

    def __init__(self, messages: Any) -> None:
        self.messages = messages
        self.stepped = False
        self.started = False

    def info(self, message: str) -> None:
        """An informative tool message."""
        self.messages.addMessage(message)

    def warning(self, message: str) -> None:
        """A tool warning."""
        self.messages.addWarningMessage(message)

    def progress(self, label: str, percent: Optional[float] = None) -> None:
        """The progressor: a label, and a position once a percentage is known."""
        if percent is not None and not self.stepped:
            arcpy.SetProgressor("step", label, 0, 100, 1)
            self.stepped = self.started = True
        elif not self.started:
            arcpy.SetProgressor("default", label)
            self.started = True
        arcpy.SetProgressorLabel(label)
        if percent is not None:
            arcpy.SetProgressorPosition(int(percent))


class _Tool:
    """What both tools share: parameters from the spec, validation, error handling."""

    spec: toolspec.ToolSpec

    def __init__(self) -> None:
        """Describe the tool. ``clock`` and ``sleep`` are seams for tests (None: real time)."""
        self.label = self.spec.label
        self.description = self.spec.summary
        self.clock: Optional[Callable[[], float]] = None
        self.sleep: Callable[[float], object] = time.sleep

    def getParameterInfo(self) -> List[Any]:  # noqa: N802 - arcpy's name
        """One arcpy.Parameter per ParamSpec."""
        return [_parameter(spec) for spec in self.spec.params]

    def isLicensed(self) -> bool:  # noqa: N802 - arcpy's name
        """No extension is needed."""
        return True

    def updateParameters(self, parameters: List[Any]) -> None:  # noqa: N802 - arcpy's name
        """Enable what the chosen connection type (and target) uses; fill defaults."""
        toolbox.update_parameters(self.spec, parameters, arcpy.GetActivePortalURL)

    def updateMessages(self, parameters: List[Any]) -> None:  # noqa: N802 - arcpy's name
        """Put each problem on the parameter it is about."""
        toolbox.update_messages(self.spec, parameters)

    def execute(self, parameters: List[Any], messages: Any) -> None:
        """Run the tool; expected failures end as one clear error message."""
        reporter = _Reporter(messages)
        host = toolbox.Host(
            reporter,
            arcpy.GetSigninToken,
            arcpy.GetActivePortalURL,
            self.clock,
            self.sleep,
            cancelled=lambda: bool(arcpy.env.isCancelled),
        )
        auto_cancelling = arcpy.env.autoCancelling
        arcpy.env.autoCancelling = False  # Cancel sets isCancelled: the run stops cleanly
        try:
            toolbox.execute(self.spec, parameters, host)
        except Exception as exc:  # noqa: BLE001 - shown as a masked tool error below
            text = toolbox.error_text(exc, self.spec)
            messages.addErrorMessage(text)
            raise arcpy.ExecuteError(text) from None
        finally:
            arcpy.env.autoCancelling = auto_cancelling
            if reporter.started:
                arcpy.ResetProgressor()


def _parameter(spec: toolspec.ParamSpec) -> Any:
    """The arcpy.Parameter for ``spec``."""
    param = arcpy.Parameter(
        name=spec.name,
        displayName=spec.label,
        direction=spec.direction,
        datatype=spec.datatype,
        parameterType=spec.parameter_type,
        category=spec.category,
    )
    if spec.filter_type is not None:
        param.filter.type = spec.filter_type
        param.filter.list = spec.filter_list
    if spec.default_value is not None:
        param.value = spec.default_value
    return param


class GenerateToken(_Tool):
    """Generate Token: sign in and hand the token on as derived outputs."""

    spec = toolspec.GENERATE_TOKEN


class RunWithCredentials(_Tool):
    """Run with Credentials: a script, REST request or GP job with refreshed tokens."""

    spec = toolspec.RUN_WITH_CREDENTIALS
