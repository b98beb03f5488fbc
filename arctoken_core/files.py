"""Files that hold tokens or results: written whole or not at all, readable only by the owner.

One function serves the token cache, the token file and Run with Credentials' outcome file.
Owner-only means mode 0600 on POSIX. On Windows ``chmod`` cannot restrict a file, so it gets
a protected access list (nothing inherited from its folder) with a single entry: full access
for its owner (SDDL ``D:P(A;;FA;;;OW)``), set through advapi32 with ctypes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

PRIVATE_FILE_MODE = 0o600
OWNER_ONLY_SDDL = "D:P(A;;FA;;;OW)"
"""A protected DACL whose one entry gives the file's owner (OWNER RIGHTS) full access."""
_SDDL_REVISION_1 = 1
_DACL_SECURITY_INFORMATION = 0x00000004
_PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000


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
        restrict_to_owner(temp)
        os.replace(temp, target)  # a rename keeps the access list set on the temporary file
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


def write_json_private(path: Union[str, Path], data: Any) -> str:
    """:func:`write_private` of ``data`` as indented, key-sorted JSON; return the path."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return write_private(path, text)


def restrict_to_owner(path: str, platform: Optional[str] = None) -> None:
    """Make ``path`` readable and writable by its owner only: 0600, or the Windows DACL."""
    if (platform or sys.platform) == "win32":
        set_owner_only_dacl(path, _windows_api())
    else:
        os.chmod(path, PRIVATE_FILE_MODE)


def set_owner_only_dacl(path: str, api: Any) -> None:
    """Put :data:`OWNER_ONLY_SDDL` on ``path`` through ``api`` (advapi32 and kernel32 calls,
    see :func:`_windows_api`); OSError when Windows refuses."""
    import ctypes

    descriptor = ctypes.c_void_p()
    made = api.ConvertStringSecurityDescriptorToSecurityDescriptorW(
        OWNER_ONLY_SDDL, _SDDL_REVISION_1, ctypes.byref(descriptor), None
    )
    if not made:
        raise _windows_error(api, "describe an owner-only access list", path)
    try:
        flags = ctypes.c_ulong(_DACL_SECURITY_INFORMATION | _PROTECTED_DACL_SECURITY_INFORMATION)
        if not api.SetFileSecurityW(path, flags, descriptor):
            raise _windows_error(api, "make the file owner-only", path)
    finally:
        api.LocalFree(descriptor)


def _windows_error(api: Any, what: str, path: str) -> OSError:
    code = api.get_last_error()
    return OSError(errno.EACCES, f"could not {what} (Windows error {code})", path)


def _windows_api() -> Any:
    """The Windows calls :func:`set_owner_only_dacl` makes (only ever built on Windows)."""
    import ctypes
    import types

    advapi32 = getattr(ctypes, "WinDLL")("advapi32", use_last_error=True)  # noqa: B009
    kernel32 = getattr(ctypes, "WinDLL")("kernel32", use_last_error=True)  # noqa: B009
    return types.SimpleNamespace(
        ConvertStringSecurityDescriptorToSecurityDescriptorW=(
            advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW
        ),
        SetFileSecurityW=advapi32.SetFileSecurityW,
        LocalFree=kernel32.LocalFree,
        get_last_error=getattr(ctypes, "get_last_error"),  # noqa: B009
    )
