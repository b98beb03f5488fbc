"""Drive ArcTokenTools.pyt the way ArcGIS Pro does, with the arcpy double.

:func:`load_toolbox` imports the .pyt with ``SourceFileLoader`` as Pro does. A
:class:`ProTool` is one open tool: it builds the parameters with ``getParameterInfo``, and
on every change runs Pro's validation sequence: ``updateParameters``, Pro's internal
validation (required values, value lists, ranges, files), then ``updateMessages``.
:meth:`ProTool.run` validates once more and runs ``execute`` only when no parameter is in
error, as Pro does, raising ``arcpy.ExecuteError`` otherwise.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Mapping, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYT = ROOT / "ArcTokenTools.pyt"
DOUBLE = Path(__file__).resolve().parent / "arcpy_double"


@pytest.fixture(name="arcpy")
def arcpy_fixture() -> Iterator[ModuleType]:
    """The arcpy double, importable as ``arcpy`` for this test only, in a fresh state."""
    sys.path.insert(0, str(DOUBLE))
    sys.modules.pop("arcpy", None)
    sys.modules.pop("arcpy._double", None)
    import arcpy as double

    double._double.reset()
    yield double
    sys.path.remove(str(DOUBLE))
    for name in ("arcpy", "arcpy._double"):
        sys.modules.pop(name, None)


@pytest.fixture(name="toolbox")
def toolbox_fixture(arcpy: ModuleType) -> ModuleType:
    """ArcTokenTools.pyt, loaded as ArcGIS Pro loads it."""
    return load_toolbox()


def load_toolbox(path: Path = PYT) -> ModuleType:
    """Import a .pyt the way ArcGIS Pro does (a source file under the toolbox's name)."""
    name = path.stem
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _arcpy() -> Any:
    return sys.modules["arcpy"]


def open_tool(toolbox: ModuleType, tool_name: str) -> ProTool:
    """Open one of the toolbox's tools, as Pro does when a tool dialog opens."""
    box = toolbox.Toolbox()
    classes = {cls.__name__: cls for cls in box.tools}
    return ProTool(classes[tool_name]())


class ProTool:
    """One tool opened in ArcGIS Pro (dialog, ModelBuilder or a Python call)."""

    def __init__(self, tool: Any) -> None:
        self.tool = tool
        self.params: List[Any] = self.tool.getParameterInfo()
        self.validate()

    def __getitem__(self, name: str) -> Any:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def set(self, **values: Any) -> ProTool:
        """The user enters ``values`` (None empties a parameter), then Pro validates."""
        for name, value in values.items():
            self[name]._user_sets(value)
        self.validate()
        return self

    def validate(self, running: bool = False) -> None:
        """updateParameters, internal validation, updateMessages: Pro's sequence.

        Empty required values are reported only when the tool is about to run (a fresh
        dialog shows no errors for them), as in ArcGIS Pro.
        """
        self.tool.updateParameters(self.params)
        for param in self.params:
            param.clearMessage()
            internal_validation(param, running)
        self.tool.updateMessages(self.params)
        for param in self.params:
            param._validated_now()

    def errors(self) -> Dict[str, str]:
        """Parameter name to error message, for parameters in error."""
        return {p.name: p.message for p in self.params if p.hasError()}

    def warnings(self) -> Dict[str, str]:
        """Parameter name to warning message, for parameters with a warning."""
        return {p.name: p.message for p in self.params if p.hasWarning()}

    def run(self) -> None:
        """Run like Pro: validate; refuse when a parameter is in error; else execute."""
        arcpy = _arcpy()
        self.validate(running=True)
        errors = self.errors()
        if errors:
            lines = [f"{self[name].displayName}: {text}" for name, text in errors.items()]
            raise arcpy.ExecuteError(
                "Failed to execute. Parameters are not valid.\n" + "\n".join(lines)
            )
        self.tool.execute(self.params, arcpy._double.Messages())

    def output(self, name: str) -> Any:
        """A derived output's value after a run."""
        return self[name].value


def internal_validation(param: Any, running: bool) -> None:
    """What ArcGIS Pro checks by itself before updateMessages."""
    if not param.enabled or param.parameterType == "Derived":
        return
    text = param.valueAsText
    if text is None:
        if running and param.parameterType == "Required":
            param.setErrorMessage(f"ERROR 000735: {param.displayName}: Value is required")
        return
    kind, allowed = param.filter.type, param.filter.list
    if kind == "ValueList" and param.value not in allowed:
        choices = " | ".join(str(v) for v in allowed)
        param.setErrorMessage(f"ERROR 000800: The value is not a member of {choices}.")
    elif kind == "Range" and not allowed[0] <= param.value <= allowed[1]:
        param.setErrorMessage(
            f"ERROR 000854: The value is out of the range from {allowed[0]} to {allowed[1]}."
        )
    elif param.datatype == "File":
        _validate_file(param, text, allowed)


def _validate_file(param: Any, path: str, extensions: List[str]) -> None:
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    if extensions and suffix not in [e.lower() for e in extensions]:
        param.setErrorMessage(
            f"ERROR 000800: The value is not a member of {' | '.join(extensions)}."
        )
    elif param.direction == "Input" and not os.path.exists(path):
        param.setErrorMessage(
            f"ERROR 000732: {param.displayName}: Dataset {path} does not exist or is not supported"
        )
    elif param.direction == "Output" and os.path.exists(path) and not _arcpy().env.overwriteOutput:
        param.setErrorMessage(f"ERROR 000725: {param.displayName}: Dataset {path} already exists.")


def inline(text: str, variables: Mapping[str, Any]) -> str:
    """ModelBuilder's inline variable substitution: ``%Name%`` becomes the variable's value."""

    def value(match: re.Match[str]) -> str:
        """The value of one ``%Name%``."""
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"model variable %{name}% is not defined")
        return str(variables[name])

    return re.sub(r"%([^%]+)%", value, text)


def model_variables(tool: ProTool) -> Dict[str, Any]:
    """A finished tool's outputs as ModelBuilder variables, named by their labels."""
    return {p.displayName: p.valueAsText for p in tool.params if p.direction == "Output"}


def messages(kind: Optional[str] = None) -> List[str]:
    """The messages recorded so far (of one severity when given)."""
    texts: List[str] = _arcpy()._double.STATE.texts(kind)
    return texts


def everything_shown() -> str:
    """All messages and progressor labels so far, one string."""
    text: str = _arcpy()._double.STATE.all_text()
    return text
