"""A test double of ``arcpy``: only the documented API the toolbox may use, strictly checked.

Put on ``sys.path`` by the toolbox tests only. ``Parameter`` validates its keywords the way
arcpy does (datatype keywords, parameterType, direction, Derived only as Output) and has
fixed attributes (``__slots__``), so a misspelled attribute raises AttributeError instead of
passing silently. What ArcGIS Pro knows and records lives in :mod:`arcpy._double`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List, Optional

from . import _double, _portal

DATATYPES: Dict[str, str] = {
    "GPString": "String",
    "GPStringHidden": "String Hidden",
    "GPEncryptedString": "Encrypted String",
    "GPLong": "Long",
    "GPDouble": "Double",
    "GPBoolean": "Boolean",
    "GPDate": "Date",
    "GPVariant": "Variant",
    "GPType": "Data Type",
    "GPValueTable": "Value Table",
    "GPLinearUnit": "Linear Unit",
    "GPSQLExpression": "SQL Expression",
    "GPFeatureLayer": "Feature Layer",
    "GPTableView": "Table View",
    "GPRasterLayer": "Raster Layer",
    "GPSpatialReference": "Spatial Reference",
    "GPExtent": "Extent",
    "DEFile": "File",
    "DEFolder": "Folder",
    "DETextfile": "Text File",
    "DEFeatureClass": "Feature Class",
    "DETable": "Table",
    "DEWorkspace": "Workspace",
    "DERasterDataset": "Raster Dataset",
    "Field": "Field",
}
"""Datatype keywords and their display names (arcpy accepts either)."""

PARAMETER_TYPES = ("Required", "Optional", "Derived")
DIRECTIONS = ("Input", "Output")
FILTER_TYPES = (
    "ValueList",
    "Range",
    "File",
    "FeatureClass",
    "Field",
    "Workspace",
    "ArealUnit",
    "LinearUnit",
    "Time",
    "TravelMode",
)
MESSAGE_TEXTS: Dict[int, str] = {735: "{0}: Value is required"}
"""Texts of the geoprocessing messages the double knows (``{0}`` is the first argument)."""
_FILE_TYPES = ("DEFile", "DETextfile")
_PATH_TYPES = ("DEFile", "DETextfile", "DEFolder", "DEFeatureClass", "DETable", "DEWorkspace")


class ExecuteError(Exception):
    """Raised when a tool fails (arcpy.ExecuteError)."""


def _keyword(datatype: str) -> str:
    for keyword, label in DATATYPES.items():
        if datatype in (keyword, label):
            return keyword
    raise ValueError(f"ERROR 000800: unknown parameter data type {datatype!r}")


def _choice(value: Optional[str], allowed: tuple[str, ...], what: str, default: str) -> str:
    chosen = default if value is None else value
    if chosen not in allowed:
        raise ValueError(f"{what} must be one of {allowed}, got {chosen!r}")
    return chosen


class Filter:
    """A parameter's filter: ``type`` and ``list`` (values, range or file extensions)."""

    __slots__ = ("_type", "_list")

    def __init__(self, filter_type: Optional[str] = None) -> None:
        self._type = filter_type
        self._list: List[Any] = []

    @property
    def type(self) -> Optional[str]:
        """ValueList, Range, File..."""
        return self._type

    @type.setter
    def type(self, value: str) -> None:
        if value not in FILTER_TYPES:
            raise ValueError(f"filter type must be one of {FILTER_TYPES}, got {value!r}")
        self._type = value

    @property
    def list(self) -> List[Any]:
        """The allowed values, the [min, max] of a range, or file extensions."""
        return list(self._list)

    @list.setter
    def list(self, values: List[Any]) -> None:
        if not isinstance(values, list):
            raise TypeError("filter.list must be a list")
        if self._type is None:
            raise ValueError("set filter.type before filter.list")
        if self._type == "Range" and (
            len(values) != 2 or not all(isinstance(v, (int, float)) for v in values)
        ):
            raise ValueError("a Range filter's list is [minimum, maximum]")
        if self._type == "File" and any(str(v).startswith(".") for v in values):
            raise ValueError("File filter extensions are given without the dot")
        self._list = list(values)


class _Value:
    """The geoprocessing value object arcpy returns for paths: ``str()`` gives the path."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"<geoprocessing value object {self.value!r}>"


class Parameter:
    """arcpy.Parameter: a tool parameter, its value, filter and validation messages."""

    __slots__ = (
        "name",
        "displayName",
        "_direction",
        "_datatype",
        "_parameter_type",
        "enabled",
        "category",
        "symbology",
        "multiValue",
        "parameterDependencies",
        "defaultEnvironmentName",
        "_filter",
        "_value",
        "_altered",
        "_validated",
        "_message",
        "_severity",
    )

    def __init__(
        self,
        name: Optional[str] = None,
        displayName: Optional[str] = None,  # noqa: N803 - arcpy's name
        direction: Optional[str] = None,
        datatype: Optional[str] = None,
        parameterType: Optional[str] = None,  # noqa: N803 - arcpy's name
        enabled: Optional[bool] = None,
        category: Optional[str] = None,
        symbology: Optional[str] = None,
        multiValue: Optional[bool] = None,  # noqa: N803 - arcpy's name
    ) -> None:
        self.name = name or ""
        self.displayName = displayName or self.name
        self._direction = _choice(direction, DIRECTIONS, "direction", "Input")
        self._datatype = _keyword(datatype or "GPString")
        self._parameter_type = _choice(parameterType, PARAMETER_TYPES, "parameterType", "Required")
        if self._parameter_type == "Derived" and self._direction != "Output":
            raise ValueError("a Derived parameter must have direction='Output'")
        self.enabled = True if enabled is None else bool(enabled)
        self.category = category
        self.symbology = symbology
        self.multiValue = bool(multiValue)
        self.parameterDependencies: List[int] = []
        self.defaultEnvironmentName: Optional[str] = None
        self._filter = Filter("File" if self._datatype in _FILE_TYPES else None)
        self._value: Any = None
        self._altered = False
        self._validated = False
        self._message = ""
        self._severity = ""

    def __repr__(self) -> str:
        return f"<Parameter {self.name} = {self.valueAsText!r}>"

    # -- definition (read-only after construction) ------------------------------------------
    @property
    def direction(self) -> str:
        """Input or Output."""
        return self._direction

    @property
    def datatype(self) -> str:
        """The data type's display name (e.g. ``String``)."""
        return DATATYPES[self._datatype]

    @property
    def parameterType(self) -> str:  # noqa: N802 - arcpy's name
        """Required, Optional or Derived."""
        return self._parameter_type

    @property
    def filter(self) -> Filter:
        """The parameter's filter."""
        return self._filter

    # -- value ------------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The value: a Python value, or a value object for paths (use valueAsText)."""
        if self._value is not None and self._datatype in _PATH_TYPES:
            return _Value(self._value)
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self._value = _coerce(self._datatype, value)

    @property
    def valueAsText(self) -> Optional[str]:  # noqa: N802 - arcpy's name
        """The value as text, None when empty."""
        return _as_text(self._value)

    @property
    def altered(self) -> bool:
        """True once the user has set a value (until they empty it)."""
        return self._altered

    @property
    def hasBeenValidated(self) -> bool:  # noqa: N802 - arcpy's name
        """False when the user changed the value since the last validation."""
        return self._validated

    # -- messages ---------------------------------------------------------------------------
    @property
    def message(self) -> str:
        """The parameter's current message."""
        return self._message

    def setErrorMessage(self, message: str) -> None:  # noqa: N802 - arcpy's name
        """Mark the parameter as in error; the tool will not run."""
        self._message, self._severity = _text(message), "error"

    def setWarningMessage(self, message: str) -> None:  # noqa: N802 - arcpy's name
        """Mark the parameter with a warning; the tool still runs."""
        self._message, self._severity = _text(message), "warning"

    def setIDMessage(  # noqa: N802 - arcpy's name
        self,
        messageType: str,  # noqa: N803 - arcpy's name
        messageID: int,  # noqa: N803 - arcpy's name
        AddArgument1: Any = None,  # noqa: N803 - arcpy's name
        AddArgument2: Any = None,  # noqa: N803 - arcpy's name
    ) -> None:
        """A system message by ID, with its documented text when the double knows it."""
        args = [str(a) for a in (AddArgument1, AddArgument2) if a is not None]
        template = MESSAGE_TEXTS.get(int(messageID))
        body = template.format(*args) if template else " ".join(args)
        text = f"ERROR {int(messageID):06d}: {body}".rstrip()
        if messageType.upper() == "ERROR":
            self.setErrorMessage(text)
        else:
            self.setWarningMessage(text.replace("ERROR", "WARNING", 1))

    def clearMessage(self) -> None:  # noqa: N802 - arcpy's name
        """No message: neither error nor warning."""
        self._message, self._severity = "", ""

    def hasError(self) -> bool:  # noqa: N802 - arcpy's name
        """True when the parameter is in error."""
        return self._severity == "error"

    def hasWarning(self) -> bool:  # noqa: N802 - arcpy's name
        """True when the parameter has a warning."""
        return self._severity == "warning"

    def isInputValueDerived(self) -> bool:  # noqa: N802 - arcpy's name
        """True when the value comes from another tool in a model (never in the double)."""
        return False

    # -- host side (ArcGIS Pro, not tools) --------------------------------------------------
    def _user_sets(self, value: Any) -> None:
        """The user typed ``value`` in the dialog (or passed it from Python)."""
        self.value = value
        self._altered = self._value is not None
        self._validated = False

    def _validated_now(self) -> None:
        self._validated = True


def _text(message: Any) -> str:
    if not isinstance(message, str):
        raise TypeError("parameter messages are strings")
    return message


def _coerce(datatype: str, value: Any) -> Any:
    """Turn ``value`` into what arcpy stores for ``datatype`` (TypeError/ValueError if unfit)."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, _Value):
        value = value.value
    converters = {
        "GPLong": _to_long,
        "GPDouble": _to_double,
        "GPBoolean": _to_boolean,
        "GPDate": _to_date,
    }
    convert = converters.get(datatype)
    if convert is not None:
        return convert(value)
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise TypeError(f"a {DATATYPES[datatype]} value must be text, got {type(value).__name__}")
    return str(value)


def _to_long(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a Long value cannot be a boolean")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value} is not a whole number")
    return int(value)


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a Double value cannot be a boolean")
    return float(value)


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"{value!r} is not a Boolean")


def _to_date(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    return _dt.datetime.fromisoformat(str(value))


def _as_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.datetime):
        hour = value.hour % 12 or 12
        half = "AM" if value.hour < 12 else "PM"
        return f"{value.month}/{value.day}/{value.year} {hour}:{value:%M:%S} {half}"
    return str(value)


# -- messages ----------------------------------------------------------------------------------


def AddMessage(message: str) -> None:  # noqa: N802 - arcpy's name
    """An informative message of the running tool."""
    _double.record("message", message)


def AddWarning(message: str) -> None:  # noqa: N802 - arcpy's name
    """A warning of the running tool."""
    _double.record("warning", message)


def AddError(message: str) -> None:  # noqa: N802 - arcpy's name
    """An error of the running tool (does not stop it)."""
    _double.record("error", message)


def AddIDMessage(  # noqa: N802 - arcpy's name
    message_type: str,
    message_ID: int,  # noqa: N803 - arcpy's name
    add_argument1: Any = None,
    add_argument2: Any = None,
) -> None:
    """A system message by ID."""
    _double.Messages().addIDMessage(message_type, message_ID, add_argument1, add_argument2)


# -- progressor ----------------------------------------------------------------------------------


def SetProgressor(  # noqa: N802 - arcpy's name
    type: str = "default",  # noqa: A002 - arcpy's name
    message: str = "",
    min_range: int = 0,
    max_range: int = 100,
    step_value: int = 1,
) -> None:
    """Start a default (animated) or step progressor."""
    if type not in ("default", "step"):
        raise ValueError("progressor type must be 'default' or 'step'")
    if not all(isinstance(v, int) for v in (min_range, max_range, step_value)):
        raise TypeError("progressor ranges are integers")
    if min_range >= max_range:
        raise ValueError("min_range must be below max_range")
    _double.STATE.progressor.append(
        ("SetProgressor", (type, _text(message), min_range, max_range, step_value))
    )


def SetProgressorLabel(label: str) -> None:  # noqa: N802 - arcpy's name
    """Change the progressor's label."""
    _double.STATE.progressor.append(("SetProgressorLabel", (_text(label),)))


def SetProgressorPosition(position: Optional[int] = None) -> None:  # noqa: N802 - arcpy's name
    """Move a step progressor (by one step when no position is given)."""
    if position is not None and not isinstance(position, int):
        raise TypeError("the progressor position is an integer")
    _double.STATE.progressor.append(("SetProgressorPosition", (position,)))


def ResetProgressor() -> None:  # noqa: N802 - arcpy's name
    """Back to the default progressor."""
    _double.STATE.progressor.append(("ResetProgressor", ()))


# -- portal -------------------------------------------------------------------------------------


def GetSigninToken() -> Optional[Dict[str, Any]]:  # noqa: N802 - arcpy's name
    """Pro's token for its active portal: token, referer, expires (epoch SECONDS), or None."""
    _double.STATE.signin_calls += 1
    signin = _double.STATE.signin
    answer = signin() if callable(signin) else signin
    return dict(answer) if answer else None


def SignInToPortal(  # noqa: N802 - arcpy's name
    portal_url: str,
    username: Optional[str] = None,
    password: Optional[str] = None,
    cert_file: Optional[str] = None,
    key_file: Optional[str] = None,
    token: Optional[str] = None,
    token_referer: Optional[str] = None,
    token_expiry: Optional[int] = None,
) -> Dict[str, Any]:
    """Sign in to a portal and make it the active one; a dictionary of token, referer, expires.

    Built-in accounts give username and password; PKI a .pfx/.p12 ``cert_file`` (``password``
    opens it) or a PEM ``cert_file`` and ``key_file``; IWA nothing (the current Windows logon);
    or an existing ``token``. The sign-in is real (see :mod:`arcpy._portal`); a failure raises
    RuntimeError.
    """
    state = _double.STATE
    state.portal_signins.append(
        {"url": portal_url, "username": username, "cert_file": cert_file, "key_file": key_file}
    )
    if token:
        answer: Dict[str, Any] = {"token": token, "referer": token_referer, "expires": token_expiry}
    else:
        answer = _portal.sign_in(portal_url, username, password, cert_file, key_file,
                                 referer=state.portal_referer, trust=state.trusted_ca)  # fmt: skip
    state.signin, state.active_portal_url = dict(answer), portal_url
    return answer


def GetActivePortalURL() -> str:  # noqa: N802 - arcpy's name
    """The URL of ArcGIS Pro's active portal."""
    return _double.STATE.active_portal_url


# -- environments ----------------------------------------------------------------------------------


class _Environment:
    """arcpy.env: the few settings tools may read, and the two cancellation properties.

    As Esri documents them: ``autoCancelling`` (True by default) ends the script on the
    current line when the user cancels; set to False, a cancel instead turns the read-only
    ``isCancelled`` from False to True and the script carries on until it stops itself.
    """

    __slots__ = (
        "overwriteOutput",
        "workspace",
        "scratchFolder",
        "scratchWorkspace",
        "autoCancelling",
    )

    def __init__(self) -> None:
        self.overwriteOutput = True
        self.workspace: Optional[str] = None
        self.scratchFolder: Optional[str] = None
        self.scratchWorkspace: Optional[str] = None
        self.autoCancelling = True

    @property
    def isCancelled(self) -> bool:  # noqa: N802 - arcpy's name
        """True once the user cancelled the tool, when autoCancelling is False (read-only)."""
        return not self.autoCancelling and _double.cancel_requested()


env = _Environment()
