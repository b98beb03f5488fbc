"""Run every benchmark, print one combined table, exit 1 if any target was missed.

``python bench/run_all.py`` runs each ``bench_*.py`` of this folder in turn (the order of
the README's targets first, then any other), except scripts whose rows another one already
reports (listed in that script's ``INCLUDES``). ``--only NAME`` (repeatable) runs a subset.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from typing import Any, List, Optional, Sequence

from common import BENCH_DIR, Result, quiet_core_logs, report, run_guarded

ORDER = (
    "bench_token_roundtrips",
    "bench_overhead",
    "bench_cold_start",
    "bench_first_token",
    "bench_multiprocess",
)
"""The scripts in the order of the targets they check."""


def scripts() -> List[str]:
    """Module names of the benchmarks to run: the known order, then any others, no repeats."""
    found = sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))
    names = [name for name in ORDER if name in found]
    names += [name for name in found if name not in names]
    modules = {name: _load(name) for name in names}
    included = {inc for module in modules.values() for inc in getattr(module, "INCLUDES", ())}
    return [name for name in names if name not in included]


def _load(name: str) -> Any:
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    return importlib.import_module(name)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmarks, print the combined table; 0 when every target was met, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="e.g. bench_overhead")
    args = parser.parse_args(argv)
    quiet_core_logs()
    names = scripts()
    if args.only:
        names = [name for name in names if name in args.only or name[6:] in args.only]
    results: List[Result] = []
    started = time.perf_counter()
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        results += run_guarded(name, _load(name).run)
        print(f"  {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - started
    print(
        f"python bench/run_all.py: Python {platform.python_version()} on "
        f"{platform.system()}, {total:.0f} s\n"
    )
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
