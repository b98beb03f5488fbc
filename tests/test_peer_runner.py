"""peer/run.py's report: client lines sorted into PASS and FAIL, and the exit status."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

RUNNER = Path(__file__).resolve().parent.parent / "peer" / "run.py"


def load_runner() -> ModuleType:
    """peer/run.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("peer_run", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lines_are_sorted_and_named_after_the_client(capsys: pytest.CaptureFixture[str]) -> None:
    runner = load_runner()
    out = "# arcgis 2.4.4\nPASS sign_in (alice)\nnoise\nFAIL query: KeyError: 'x'\n"
    passed, failed = runner.read_lines("python", out)
    assert passed == ["PASS python.sign_in (alice)"]
    assert failed == ["FAIL python.query: KeyError: 'x'"]
    assert "# python: arcgis 2.4.4" in capsys.readouterr().out


def test_a_failed_install_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = load_runner()
    monkeypatch.setattr(runner, "install", lambda client, again: "npm exited 1: no network")
    assert runner.main(["--only", "js"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "FAIL js_install: npm exited 1: no network" in lines
    assert lines[-1] == "0 passed, 1 failed"
