"""A small process that starts the measured children and reports their time and peak RSS.

Why a separate process: on Linux a child's ``ru_maxrss`` also counts the memory of the
process that spawned it (the address space it leaves at ``exec`` is folded into the peak),
so children started straight from a benchmark that holds an emulator and thousands of
request records would all look as big as the benchmark. Started from this process, which
imports next to nothing, a child's peak RSS is its own.

Protocol (``python launcher.py``): one JSON object a line on stdin, ``{"argv": [...],
"stdin": str or null, "cwd": str}``; one JSON object a line back, ``{"seconds",
"peak_rss_kib", "returncode", "stdout", "stderr"}``. Deliberately imports only the standard
library's basics.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional


def measure(argv: List[str], stdin: Optional[str], cwd: Optional[str]) -> Dict[str, Any]:
    """Run ``argv`` once; its wall time from spawn to exit, peak RSS (KiB), status, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
        )
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin.encode("utf-8"))
            proc.stdin.close()
        peak: Optional[int] = None
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            scale = 1024 if sys.platform == "darwin" else 1  # bytes there, KiB on Linux
            peak = int(usage.ru_maxrss) // scale
        else:
            proc.wait()
            seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return {
            "seconds": seconds,
            "peak_rss_kib": peak,
            "returncode": proc.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def serve() -> int:
    """Answer requests from stdin until it closes."""
    for line in sys.stdin:
        job = json.loads(line)
        result = measure(list(job["argv"]), job.get("stdin"), job.get("cwd"))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
