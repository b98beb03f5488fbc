"""The double's own state and host side: what ArcGIS Pro holds and does around a tool.

Not part of arcpy: tests use it to set what Pro would know (its sign-in, its active portal),
to read what a tool reported (messages, progressor), and tools must never import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

SigninValue = Optional[Dict[str, Any]]
Signin = Union[SigninValue, Callable[[], SigninValue]]

SEVERITIES = ("message", "warning", "error")


@dataclass
class State:
    """What the running "ArcGIS Pro" knows and what tools reported to it."""

    signin: Signin = None
    """``GetSigninToken``'s answer, or a callable producing it (Pro refreshes its token)."""
    active_portal_url: str = "https://www.arcgis.com/"
    messages: List[Tuple[str, str]] = field(default_factory=list)
    """(severity, text) of every message, from AddMessage & co. and the messages object."""
    progressor: List[Tuple[str, Tuple[Any, ...]]] = field(default_factory=list)
    """(function name, arguments) of every progressor call."""
    signin_calls: int = 0
    portal_signins: List[Dict[str, Any]] = field(default_factory=list)
    """The arguments of every ``SignInToPortal`` call (no password)."""
    portal_referer: str = "https://pro.example.invalid/"
    """The referer ArcGIS Pro asks its tokens for."""
    trusted_ca: Optional[str] = None
    """The CA file ArcGIS Pro trusts for https (as Pro trusts the Windows store); None: the
    system's default CAs."""
    cancel: Union[bool, Callable[[], bool]] = False
    """Whether the user has pressed Cancel (or a callable answering it, looked at each time)."""

    def texts(self, severity: Optional[str] = None) -> List[str]:
        """The text of every message, or of those of one severity."""
        return [t for s, t in self.messages if severity is None or s == severity]

    def all_text(self) -> str:
        """Every message and progressor label, as one string (for leak checks)."""
        labels = [str(a) for _, args in self.progressor for a in args]
        return "\n".join(self.texts() + labels)


STATE = State()


def reset() -> None:
    """Forget everything: a fresh ArcGIS Pro session."""
    fresh = State()
    for name in State.__dataclass_fields__:
        setattr(STATE, name, getattr(fresh, name))


def cancel_requested() -> bool:
    """True once the user has pressed Cancel on the running tool."""
    cancel = STATE.cancel
    return bool(cancel() if callable(cancel) else cancel)


def record(severity: str, text: str) -> None:
    """Record one message as ArcGIS Pro would show it."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    if not isinstance(text, str):
        raise TypeError(f"messages are strings, got {type(text).__name__}")
    STATE.messages.append((severity, text))


class Messages:
    """The ``messages`` object ArcGIS Pro passes to a tool's ``execute``."""

    def addMessage(self, message: str) -> None:  # noqa: N802 - arcpy's name
        """An informative message."""
        record("message", message)

    def addWarningMessage(self, message: str) -> None:  # noqa: N802 - arcpy's name
        """A warning."""
        record("warning", message)

    def addErrorMessage(self, message: str) -> None:  # noqa: N802 - arcpy's name
        """An error (does not stop the tool by itself)."""
        record("error", message)

    def addIDMessage(  # noqa: N802 - arcpy's name
        self,
        message_type: str,
        message_ID: int,  # noqa: N803 - arcpy's name
        add_argument1: Any = None,
        add_argument2: Any = None,
    ) -> None:
        """A system message by ID (recorded as ``ID <n>: args``)."""
        kinds = {"INFORMATIVE": "message", "WARNING": "warning", "ERROR": "error"}
        if message_type not in kinds:
            raise ValueError(f"message_type must be one of {sorted(kinds)}")
        args = [str(a) for a in (add_argument1, add_argument2) if a is not None]
        record(kinds[message_type], f"ID {int(message_ID):06d}: {' '.join(args)}".rstrip())

    def addGPMessages(self) -> None:  # noqa: N802 - arcpy's name
        """Copies the messages of the last tool run; nothing to copy in the double."""
