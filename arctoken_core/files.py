"""Files that hold tokens or results: written whole or not at all, readable only by the owner.

One function serves the token cache, the token file and Run with Credentials' outcome file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Union

PRIVATE_FILE_MODE = 0o600


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
