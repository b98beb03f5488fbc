"""Files that hold tokens or results: written whole or not at all, readable only by the owner.

One function serves the token cache, the token file and Run with Credentials' outcome file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

PRIVATE_FILE_MODE = 0o600


def not_private(
    status: os.stat_result, *, folder: bool = False, platform: Optional[str] = None
) -> Optional[str]:
    """Why a file (or folder) with this ``os.stat`` is not the current user's alone, or None.

    POSIX: another user owns it, or others may read or write the file (write the folder).
    Windows has no such modes (``st_uid`` is 0): there privacy comes from the owner-only
    access list :func:`write_private` puts on each file, and the per-user default folder.
    """
    if (platform or sys.platform) == "win32":
        return None
    if status.st_uid != os.getuid():  # type: ignore[attr-defined,unused-ignore]
        return "it belongs to another user"
    if folder and status.st_mode & 0o022:
        return "other users may write to it"
    if not folder and status.st_mode & 0o077:
        return "other users may read or write it"
    return None


def write_private(path: Union[str, Path], text: str) -> str:
    """Write ``text`` to ``path`` atomically with owner-only permissions; return the path.

    The text goes to a temporary file in the same folder, is flushed to disk, and replaces
    ``path`` in one step; on any failure the temporary file is removed and ``path`` is left
    as it was, so a reader never sees half a file.
    """
    target = os.path.abspath(str(path))
    handle, temp = tempfile.mkstemp(
        prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=os.path.dirname(target)
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, PRIVATE_FILE_MODE)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


def write_json_private(path: Union[str, Path], data: Any) -> str:
    """:func:`write_private` of ``data`` as indented, key-sorted JSON; return the path."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return write_private(path, text)
