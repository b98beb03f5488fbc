"""The one place that turns a kind's row into its token provider.

Each row of :data:`arctoken_core.kinds.KINDS` names ``module:function`` in this package; the
module is imported only when that kind signs in, so a connection pays for its own way of
signing in and nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable, cast

from ..kinds import kind_named
from .base import TokenProvider

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["provider_for"]

Builder = Callable[["Connection"], TokenProvider]


def provider_for(conn: Connection) -> TokenProvider:
    """The provider that signs ``conn`` in, as its kind's row says."""
    module_name, function = kind_named(conn.kind).provider.split(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    return cast(Builder, getattr(module, function))(conn)
