"""Private files: whole or absent, owner-only (pyfakefs)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from arctoken_core import files
from arctoken_core.files import restrict_to_owner, write_json_private, write_private


def test_atomic_json_is_private_and_whole(fs: Any) -> None:
    fs.create_dir("/data")
    path = write_json_private("/data/out.json", {"b": 1, "a": [1]})
    assert json.loads(Path(path).read_text()) == {"a": [1], "b": 1}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir("/data") == ["out.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(
    fs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs.create_file("/data/out.json", contents='{"old": true}')

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("arctoken_core.files.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_json_private("/data/out.json", {"new": True})
    assert Path("/data/out.json").read_text() == '{"old": true}'
    assert os.listdir("/data") == ["out.json"]


def test_unserialisable_data_writes_nothing(fs: Any) -> None:
    fs.create_dir("/data")
    with pytest.raises(TypeError):
        write_json_private("/data/out.json", {"x": object()})
    assert os.listdir("/data") == []


class FakeWindowsSecurity:
    """Stands in for advapi32/kernel32: records the access list each file is given."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.descriptors: List[str] = []
        self.applied: List[Tuple[str, int]] = []
        self.freed = 0

    def ConvertStringSecurityDescriptorToSecurityDescriptorW(  # noqa: N802 - Windows' name
        self, sddl: str, revision: int, out: Any, size: Any
    ) -> int:
        assert revision == 1 and size is None
        self.descriptors.append(sddl)
        return 1

    def SetFileSecurityW(self, path: str, flags: Any, descriptor: Any) -> int:  # noqa: N802
        self.applied.append((os.path.basename(path), flags.value))
        return 0 if self.refuse else 1

    def LocalFree(self, descriptor: Any) -> None:  # noqa: N802
        self.freed += 1

    def get_last_error(self) -> int:
        return 5  # ERROR_ACCESS_DENIED


def _on_windows(monkeypatch: pytest.MonkeyPatch, api: FakeWindowsSecurity) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(files, "_windows_api", lambda: api)


def test_on_windows_a_private_file_gets_an_owner_only_protected_dacl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeWindowsSecurity()
    _on_windows(monkeypatch, api)
    path = write_private(tmp_path / "token.json", "{}")
    monkeypatch.undo()
    assert api.descriptors == ["D:P(A;;FA;;;OW)"]  # protected: nothing inherited; owner only
    ((name, flags),) = api.applied
    assert name.startswith(".token.json.") and name.endswith(".tmp")  # set before the rename
    assert flags == 0x80000004 and api.freed == 1  # DACL + PROTECTED_DACL; descriptor freed
    assert Path(path).read_text() == "{}"


def test_on_windows_a_refused_dacl_fails_the_write_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeWindowsSecurity(refuse=True)
    _on_windows(monkeypatch, api)
    with pytest.raises(OSError, match="owner-only .Windows error 5"):
        write_private(tmp_path / "token.json", "{}")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == [] and api.freed == 1  # no file with a loose DACL


def test_on_posix_a_private_file_is_0600_and_no_windows_call_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_windows() -> None:
        raise AssertionError("a Windows call on POSIX")

    monkeypatch.setattr(files, "_windows_api", no_windows)
    path = tmp_path / "posix.json"
    path.write_text("old")
    path.chmod(0o644)
    restrict_to_owner(str(path), platform="linux")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
