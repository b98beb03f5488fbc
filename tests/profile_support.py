"""A real keyring backend that stores to a test folder, and a private config folder.

``FolderKeyring`` is keyrings.alt's PlaintextKeyring, a genuine ``keyring`` backend (the
same calls, the same errors), with its file in the test's own folder, so nothing touches the
machine's real keyring or settings. (The plain PlaintextKeyring itself is refused by
arctoken: on a real machine its file would sit in the user's data folder.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring


class FolderKeyring(PlaintextKeyring):  # type: ignore[misc] # keyrings.alt is untyped
    """PlaintextKeyring in a test's folder: the test suite's own keyring."""


@pytest.fixture
def keyring_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The keyring (a file under tmp_path) and the config folder, for one test."""
    backend = FolderKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("ARCTOKEN_CONFIG_DIR", str(tmp_path / "config"))
    try:
        yield tmp_path
    finally:
        keyring.set_keyring(previous)


def plain_files(folder: Path) -> str:
    """Everything the config folder holds, as one text (the keyring folder excluded)."""
    return "".join(p.read_text() for p in (folder / "config").rglob("*") if p.is_file())
