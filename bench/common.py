"""What every benchmark shares: results, the table, medians, fresh-process timing, accounts.

Benchmarks compare two things measured side by side in the same run (interleaved, so a
machine that slows down slows both) and judge the ratio, never an absolute time.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
"""The project folder (where ``ArcTokenTools.pyt`` lives)."""
BENCH_DIR = Path(__file__).resolve().parent
"""This folder."""
if str(ROOT) not in sys.path:  # measure this checkout's code, not whichever is installed
    sys.path.insert(0, str(ROOT))
USER = "bench"
"""The emulator account every benchmark signs in with."""
PASSWORD = "bench-Pa55word"
"""Its password (the emulator is loopback only)."""
SERVICE_PARAMS: Dict[str, str] = {"f": "json"}
"""The query every service request sends."""


class BenchError(RuntimeError):
    """A benchmark could not measure what it set out to (a child failed, a reply was wrong)."""


@dataclass(frozen=True)
class Result:
    """One line of the table: a measured ratio, its target, whether it was met, and context."""

    name: str
    measured: float
    target: str
    ok: bool
    detail: str


def at_most(name: str, measured: float, limit: float, detail: str) -> Result:
    """A ratio that must not exceed ``limit``."""
    return Result(name, measured, f"<= {limit:.2f}", measured <= limit, detail)


def exactly(name: str, measured: float, expected: float, detail: str, ok: bool = True) -> Result:
    """A ratio that must equal ``expected`` (to two decimals) and any extra condition ``ok``."""
    met = ok and round(measured, 2) == round(expected, 2)
    return Result(name, measured, f"= {expected:.2f}", met, detail)


def context(name: str, measured: float, detail: str) -> Result:
    """A number reported for context only; it has no target."""
    return Result(name, measured, "context", True, detail)


def failed(name: str, detail: str) -> Result:
    """A benchmark that could not be measured: always a miss."""
    return Result(name, math.nan, "runs", False, detail)


def median(values: Iterable[float]) -> float:
    """The median of ``values`` (which must not be empty)."""
    data = list(values)
    if not data:
        raise BenchError("no samples to take the median of")
    return float(statistics.median(data))


def ms(seconds: float, signed: bool = False) -> str:
    """Seconds as milliseconds for the details column (with a + or - sign if ``signed``)."""
    return f"{seconds * 1000:+.1f} ms" if signed else f"{seconds * 1000:.1f} ms"


def us(seconds: float) -> str:
    """Seconds as microseconds for the details column."""
    return f"{seconds * 1e6:.0f} us"


def format_table(results: Sequence[Result]) -> str:
    """The results as a plain-text table: name, ratio, target, verdict, absolute numbers."""
    head = ("benchmark", "ratio", "target", "ok", "details")
    rows = [
        (
            r.name,
            "n/a" if math.isnan(r.measured) else f"{r.measured:.2f}",
            r.target,
            "yes" if r.ok else "MISSED",
            r.detail,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(4)]
    lines = []
    for row in [head, *rows]:
        cells = [row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(4)]
        lines.append("  ".join(cells) + "  " + row[4])
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def report(results: Sequence[Result]) -> int:
    """Print the table and a verdict; return 0 when every target was met, else 1."""
    print(format_table(results))
    missed = [r.name for r in results if not r.ok]
    if missed:
        print(f"\nMISSED {len(missed)} target(s): " + "; ".join(missed))
        return 1
    print(f"\nevery target met ({len(results)} rows)")
    return 0


def quiet_core_logs() -> None:
    """Keep the core's loopback-http warnings out of the benchmark output."""
    logging.getLogger("arctoken_core").addHandler(logging.NullHandler())


def emulator_users() -> Dict[str, str]:
    """The emulator's accounts for benchmarks."""
    return {USER: PASSWORD}


# -- fresh processes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A command to run in a fresh process, with what to type on its stdin."""

    argv: Sequence[str]
    stdin: Optional[str] = None


@dataclass(frozen=True)
class ProcessRun:
    """How one fresh process went: wall time (start to exit), peak RSS, status and output."""

    seconds: float
    peak_rss_kib: Optional[int]
    """Peak resident set size of this child alone; None where the OS cannot tell."""
    returncode: int
    stdout: str
    stderr: str


def python(code: str) -> List[str]:
    """``python -c code`` with the interpreter running the benchmark."""
    return [sys.executable, "-c", code]


def child_env() -> Dict[str, str]:
    """The environment of child processes: as installed code runs, and loopback not proxied.

    Bytecode caching is allowed (an installed package has its ``.pyc`` files), and loopback
    addresses bypass any proxy the machine has configured.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name, ""), "127.0.0.1", "localhost"]))
    return env


class Launcher:
    """Starts fresh processes from a small helper process (``launcher.py``) and reports them.

    A child spawned directly by a benchmark would report the benchmark's own memory as its
    peak RSS (see ``launcher.py``); started from the helper, it reports its own. Use it as a
    context manager.
    """

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "launcher.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(self, command: Command) -> ProcessRun:
        """Run ``command`` once in a fresh process; time it from spawn to exit."""
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        job = {"argv": list(command.argv), "stdin": command.stdin, "cwd": str(ROOT)}
        stdin.write(json.dumps(job) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise BenchError("the launcher process died")
        data = json.loads(line)
        return ProcessRun(
            float(data["seconds"]),
            None if data["peak_rss_kib"] is None else int(data["peak_rss_kib"]),
            int(data["returncode"]),
            str(data["stdout"]),
            str(data["stderr"]),
        )

    def close(self) -> None:
        """Stop the helper process."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def alternate(
    commands: Mapping[str, Command],
    runs: int,
    warmup: int = 2,
    check: Optional[Callable[[str, ProcessRun], None]] = None,
) -> Dict[str, List[ProcessRun]]:
    """Run each command ``runs`` times in fresh processes, interleaved, after ``warmup`` rounds.

    Rounds rotate the order so that no command always goes first. Every run must exit 0
    (and pass ``check``); otherwise BenchError says which and why.
    """
    names = list(commands)
    found: Dict[str, List[ProcessRun]] = {name: [] for name in names}
    with Launcher() as launcher:
        for round_ in range(warmup + runs):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                run = launcher.run(commands[name])
                _keep(found, name, run, round_ >= warmup, check)
    return found


def _keep(
    found: Dict[str, List[ProcessRun]],
    name: str,
    run: ProcessRun,
    measured: bool,
    check: Optional[Callable[[str, ProcessRun], None]],
) -> None:
    if run.returncode != 0:
        tail = run.stderr.strip().splitlines()[-3:]
        raise BenchError(f"{name} exited {run.returncode}: {' | '.join(tail)}")
    if check is not None:
        check(name, run)
    if measured:
        found[name].append(run)


def median_seconds(runs: Sequence[ProcessRun]) -> float:
    """The median wall time of ``runs``."""
    return median(r.seconds for r in runs)


def median_rss(runs: Sequence[ProcessRun]) -> Optional[float]:
    """The median peak RSS (KiB) of ``runs``, or None where it could not be read."""
    values = [r.peak_rss_kib for r in runs if r.peak_rss_kib is not None]
    return median(values) if values else None


def ratio_of_medians(
    found: Mapping[str, Sequence[ProcessRun]], subject: str, baseline: str
) -> Tuple[float, float, float]:
    """(subject median / baseline median, subject median, baseline median) in seconds."""
    a, b = median_seconds(found[subject]), median_seconds(found[baseline])
    return a / b, a, b


@dataclass(frozen=True)
class Comparison:
    """Two commands run in the same rounds: the median of their per-round time ratios."""

    ratio: float
    """Median over rounds of subject time / baseline time (each pair ran back to back)."""
    subject: float
    """Median wall time of the subject, seconds."""
    baseline: float
    """Median wall time of the baseline, seconds."""


def compare(found: Mapping[str, Sequence[ProcessRun]], subject: str, baseline: str) -> Comparison:
    """Compare ``subject`` with ``baseline`` round by round, so drifts of the machine cancel."""
    pairs = zip(found[subject], found[baseline])
    ratio = median(a.seconds / b.seconds for a, b in pairs)
    return Comparison(ratio, median_seconds(found[subject]), median_seconds(found[baseline]))


def run_guarded(name: str, run: Callable[[], List[Result]]) -> List[Result]:
    """``run()``, or one failed row naming the error when it raised."""
    try:
        return run()
    except Exception as exc:
        return [failed(name, f"{type(exc).__name__}: {exc}")]


def script_main(name: str, run: Callable[[], List[Result]]) -> int:
    """The body of every script's ``main``: run, print the table, return the exit status."""
    quiet_core_logs()
    return report(run_guarded(name, run))
