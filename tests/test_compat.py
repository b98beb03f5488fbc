"""The oldest supported stack: ArcGIS Pro 3.0's Python 3.9 with requests 2.27.

vermin checks statically that nothing needs more than Python 3.9. Then a fresh virtual
environment on a real Python 3.9 interpreter gets requests 2.27.1 (with the urllib3 1.26 it
brings), and the tests that cross the wire and the toolbox tests run there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PY39_ENV = "ARCTOKEN_PYTHON39"
"""Names a Python 3.9 interpreter when it is not found on PATH or under pyenv."""
WIRE_TESTS = [
    "tests/test_toolbox_run.py",
    "tests/test_kinds.py",
    "tests/test_long_runs.py",
    "tests/test_auth_scope.py",
    "tests/test_transport.py",
    "tests/test_redirects.py",
    "tests/test_urls_origin.py",
    "tests/test_deadline.py",
    "tests/test_cli.py",
    "tests/test_iwa.py",
    "tests/test_proxy_windows.py",
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


def python39() -> str:
    """A Python 3.9 interpreter: $ARCTOKEN_PYTHON39, pyenv's, or python3.9 on PATH."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [os.environ.get(PY39_ENV, "")]
    candidates += [str(p) for p in sorted(root.glob("versions/3.9*/bin/python3.9"))]
    candidates += [shutil.which("python3.9") or ""]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() == "True":
            return candidate
    raise AssertionError(f"no Python 3.9 interpreter found: install one or set {PY39_ENV}")


@pytest.mark.timeout(600)
def test_wire_and_toolbox_tests_pass_on_python_3_9_with_requests_2_27(tmp_path: Path) -> None:
    env_dir = tmp_path / "py39-requests-2.27"
    subprocess.run([python39(), "-m", "venv", str(env_dir)], check=True, timeout=120)
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
        "pyspnego",
    ]
    subprocess.run(install, check=True, timeout=400, capture_output=True)
    version = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, requests; print(sys.version_info[:2], requests.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "(3, 9) 2.27.1"
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *WIRE_TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
