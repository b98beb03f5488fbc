"""Connection type "Saved profile": the toolbox signs in with a profile arctoken login saved.

The profiles live in a real keyring backend and config folder under the test's own folder;
the tool runs through the arcpy double against the emulator, as ArcGIS Pro runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from arctoken_core import profiles
from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ConfigError
from arctoken_core.secrets import Secret
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, assert_no_secret
from tests.profile_support import keyring_folder
from tests.toolbox_support import (  # noqa: F401 - fixtures
    ProTool,
    arcpy_fixture,
    everything_shown,
    open_tool,
    toolbox_fixture,
)

__all__ = ["keyring_folder"]  # a fixture, imported for pytest

SAVED = "Saved profile"


def _save(emu: Emulator, name: str) -> None:
    profiles.save_profile(
        name,
        {"kind": "portal", "url": emu.portal_url, "username": ALICE, "referer": "myapp"},
        {"password": Secret(ALICE_PASSWORD)},
    )


def _tool(toolbox: ModuleType, clock: ManualClock) -> ProTool:
    tool = open_tool(toolbox, "GenerateToken")
    tool.tool.clock = clock
    return tool


def test_a_saved_profile_is_chosen_from_the_list_and_signs_in(
    toolbox: ModuleType, emu: Emulator, clock: ManualClock, keyring_folder: Path
) -> None:
    _save(emu, "work")
    _save(emu, "alpha")
    tool = _tool(toolbox, clock).set(connection_type=SAVED)
    assert tool["profile"].enabled and not tool["url"].enabled and not tool["username"].enabled
    assert tool["profile"].filter.list == ["alpha", "work"]
    tool.set(profile="work")
    assert tool.errors() == {} and tool.warnings() == {}
    tool.run()
    assert tool.output("token_url") == emu.portal_url
    assert tool.output("token_referer") == "myapp"
    assert_no_secret(everything_shown())


def test_the_profile_list_is_hidden_for_other_types(
    toolbox: ModuleType, clock: ManualClock, keyring_folder: Path
) -> None:
    tool = _tool(toolbox, clock).set(connection_type="ArcGIS Enterprise portal")
    assert not tool["profile"].enabled and tool["url"].enabled


def test_no_saved_profile_says_how_to_create_one(
    toolbox: ModuleType, clock: ManualClock, keyring_folder: Path
) -> None:
    tool = _tool(toolbox, clock).set(connection_type=SAVED)
    assert "arctoken login --profile NAME" in tool.errors()["profile"]
    with pytest.raises(toolbox.arcpy.ExecuteError, match="arctoken login --profile NAME"):
        tool.run()


def test_without_keyring_the_parameter_says_what_to_install(
    toolbox: ModuleType,
    emu: Emulator,
    clock: ManualClock,
    keyring_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _save(emu, "work")
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring now fails
    tool = _tool(toolbox, clock).set(connection_type=SAVED, profile="work")
    assert tool["profile"].filter.list == ["work"]
    assert "pip install keyring" in tool.warnings()["profile"]
    assert "Traceback" not in everything_shown()


def test_a_saved_profile_kind_needs_a_profile_name() -> None:
    with pytest.raises(ConfigError) as caught:
        Connection(kind="profile")
    assert caught.value.field == "profile" and "arctoken login --profile" in str(caught.value)


def test_kind_profile_takes_the_profile_s_own_kind(emu: Emulator, keyring_folder: Path) -> None:
    _save(emu, "work")
    conn = Connection(kind="profile", profile="work")
    assert (conn.kind, conn.url, conn.username) == ("portal", emu.portal_url, ALICE)
