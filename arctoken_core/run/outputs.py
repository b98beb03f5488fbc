"""Output files of the tools: checked before a run, written privately and whole after it.

Importing this module is cheap (standard library only): the tool dialog checks output paths
through :func:`check_output_path` while the user types.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, List

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..fields import Problem

__all__ = ["check_output_path", "write_output"]


def check_output_path(path: Any, field_name: str) -> List[Problem]:
    """Problems with an output file path: its folder must exist and it must not be a folder."""
    from ..fields import Problem

    if path is None or not str(path).strip():
        return []
    folder = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(folder):
        return [Problem(field_name, f"folder not found: {folder}")]
    if os.path.isdir(str(path)):
        return [Problem(field_name, f"is a folder, not a file: {path}")]
    return []


def write_output(path: str, document: Any, field_name: str) -> str:
    """Write ``document`` as JSON to ``path`` (owner-only, whole or not at all); its path.

    A file that cannot be written is a ConfigError naming ``field_name`` and the reason.
    """
    from ..files import write_json_private

    try:
        return write_json_private(path, document)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            field_name, f"cannot write {path}: {reason}; choose a file in a folder you can write to"
        ) from None
