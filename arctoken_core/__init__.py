"""ArcGIS tokens that stay valid for long runs: Online, Enterprise portals, ArcGIS Server.

``from arctoken_core import Connection`` is the entry point. Heavy modules (requests) load
on first use, so importing the package costs almost nothing (the toolbox imports it at load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .connection import Connection as Connection

__all__ = ["Connection", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Connection":
        from .connection import Connection

        return Connection
    raise AttributeError(f"module 'arctoken_core' has no attribute {name!r}")
