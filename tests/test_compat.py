"""The oldest supported stack: Python 3.9 syntax and library use, and requests 2.27.

ArcGIS Pro 3.0-3.2 ship Python 3.9 with requests 2.27-2.31. No Python 3.9 interpreter is at
hand here, so vermin checks the code's minimum version; requests 2.27.1 (with the urllib3
1.26 it brings) is installed into a fresh virtual environment and the tests that cross the
wire run there.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WIRE_TESTS = [
    "tests/test_kinds.py",
    "tests/test_long_runs.py",
    "tests/test_auth_scope.py",
    "tests/test_transport.py",
    "tests/test_cli.py",
]


def test_code_needs_no_more_than_python_3_9() -> None:
    result = subprocess.run(
        [
            str(Path(sysconfig.get_path("scripts")) / "vermin"),
            "-t=3.9-",
            "--no-tips",
            "--violations",
            "--eval-annotations",
            "--no-parse-comments",
            "arctoken_core",
            "ArcTokenTools.pyt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(600)
def test_wire_tests_pass_on_requests_2_27(tmp_path: Path) -> None:
    env_dir = tmp_path / "requests-2.27"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    install = [
        str(python),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "requests==2.27.1",
        "pytest",
        "pytest-timeout",
        "trustme",
        "pyfakefs",
        "proxy.py",
        "hypothesis",
    ]
    subprocess.run(install, check=True, timeout=400, capture_output=True)
    version = subprocess.run(
        [str(python), "-c", "import requests; print(requests.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "2.27.1"
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *WIRE_TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
