"""Kind ``profile`` ("Saved profile"): the saved profile's own kind signs in.

``Connection(kind="profile", profile=NAME)`` takes the profile's kind and settings before any
provider is built (:func:`arctoken_core.profiles.profile_options`), so this row's builder is
reached only by a connection that names no profile, which validation refuses first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError
from .base import TokenProvider

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["build"]


def build(conn: Connection) -> TokenProvider:
    """Never a provider: a saved-profile connection is its profile's kind once it is built."""
    raise ConfigError(
        "profile", "is required for Saved profile: create one with: arctoken login --profile NAME"
    )
