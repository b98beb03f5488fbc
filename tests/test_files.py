"""Private files: whole or absent, owner-only (pyfakefs)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from arctoken_core.files import write_json_private


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
