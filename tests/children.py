"""Child Python processes for tests that need a real second process (lock holders)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List

from tests.support import ROOT


def start_python(code: str, args: List[str], ready: str) -> subprocess.Popen[str]:
    """Run ``code`` in a new interpreter that imports this project; return once it printed
    the line ``ready`` (its stdout stays a pipe)."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=path),
    )
    assert process.stdout is not None and process.stdout.readline().strip() == ready
    return process
