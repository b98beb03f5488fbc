"""The shared types of the tools' specs: a parameter, a help example, a tool, the toolbox.

A spec is data: ``ArcTokenTools.pyt`` builds ``arcpy.Parameter`` objects from it,
:mod:`arctoken_core.toolbox.behaviour` validates and runs with it, and
:mod:`arctoken_core.toolbox.helpxml` writes the help from it. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Mapping, Optional, Tuple

__all__ = [
    "DERIVED",
    "INPUT",
    "OPTIONAL",
    "OUTPUT",
    "PROXY",
    "REQUIRED",
    "SECURITY",
    "Example",
    "Options",
    "ParamSpec",
    "ToolSpec",
    "ToolboxSpec",
]


Options = Callable[[], Mapping[str, str]]
"""Codes to the labels a value list shows, e.g. ``{"online": "ArcGIS Online"}``."""

REQUIRED, OPTIONAL, DERIVED = "Required", "Optional", "Derived"
INPUT, OUTPUT = "Input", "Output"
PROXY, SECURITY = "Proxy", "Security"


@dataclass(frozen=True)
class ParamSpec:
    """One tool parameter: what arcpy needs to build it and what its help says.

    ``field`` is the core's name for the value (``fields.check`` and ``Connection``);
    ``kinds`` and ``targets`` list the connection types and run targets that use it (None:
    all); ``options`` maps the codes the code uses to the labels the value list shows.
    """

    name: str
    label: str
    datatype: str
    help: str
    parameter_type: str = OPTIONAL
    direction: str = INPUT
    category: Optional[str] = None
    default: Any = None
    options: Optional[Options] = None
    value_range: Optional[Tuple[float, float]] = None
    extensions: Tuple[str, ...] = ()
    field: Optional[str] = None
    kinds: Optional[Tuple[str, ...]] = None
    targets: Optional[Tuple[str, ...]] = None
    live_values: bool = False
    """A value list filled while the dialog validates (saved profiles), so empty in the spec."""

    @property
    def filter_type(self) -> Optional[str]:
        """The arcpy filter type (``ValueList``, ``Range``, ``File``) or None."""
        if self.options is not None or self.live_values:
            return "ValueList"
        if self.value_range is not None:
            return "Range"
        return "File" if self.extensions else None

    @property
    def filter_list(self) -> List[Any]:
        """The arcpy ``filter.list``: labels, ``[min, max]`` or file extensions."""
        if self.options is not None:
            return list(self.options().values())
        if self.live_values:
            return []
        if self.value_range is not None:
            return list(self.value_range)
        return list(self.extensions)

    @property
    def default_value(self) -> Any:
        """The value the dialog starts with (a label for value lists)."""
        if self.options is not None and self.default is not None:
            return self.options()[self.default]
        return self.default

    @property
    def is_output(self) -> bool:
        """True for output parameters (derived or chosen by the user)."""
        return self.direction == OUTPUT

    def uses(self, kind: Optional[str], target: Optional[str]) -> bool:
        """True when a tool set to connection ``kind`` and ``target`` needs this parameter."""
        kind_ok = self.kinds is None or kind in self.kinds
        target_ok = self.targets is None or target in self.targets
        return kind_ok and target_ok

    def code_of(self, label: Any) -> Any:
        """The code behind a value-list label (the label itself when it is unknown)."""
        if self.options is None or label is None:
            return label
        for code, text in self.options().items():
            if text == label:
                return code
        return label


@dataclass(frozen=True)
class Example:
    """A code sample in a tool's help."""

    title: str
    text: str
    code: str


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its class name in the .pyt, its label, help and parameters."""

    name: str
    label: str
    summary: str
    usage: Tuple[str, ...]
    params: Tuple[ParamSpec, ...]
    examples: Tuple[Example, ...]
    keywords: Tuple[str, ...]

    def param(self, name: str) -> ParamSpec:
        """The parameter called ``name``."""
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def index(self, name: str) -> int:
        """Position of parameter ``name`` in the tool's parameter list."""
        return [p.name for p in self.params].index(name)


@dataclass(frozen=True)
class ToolboxSpec:
    """The toolbox: label, alias (letters and digits only), description and tools."""

    label: str
    alias: str
    summary: str
    description: str
    tools: Tuple[ToolSpec, ...]
    keywords: Tuple[str, ...]
