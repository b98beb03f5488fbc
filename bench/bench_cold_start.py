"""Cold start: importing the core in a fresh process, against importing requests.

Every import runs in a new interpreter (``python -c``), the commands interleaved round by
round, after warm-up rounds that leave the bytecode cache as an installed package has it.
Reported: ``import arctoken_core`` / ``import requests`` (the target), and for context
``import arctoken_core.connection`` (which imports requests) and a bare interpreter.

Loading ``ArcTokenTools.pyt`` as ArcGIS Pro does (against importing the core alone) is
measured by ``bench_toolbox_load``; its rows are reported here, beside the imports.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any, List

from common import (
    Command,
    Result,
    alternate,
    at_most,
    compare,
    context,
    failed,
    median_seconds,
    ms,
    python,
    script_main,
)

RUNS = 11
IMPORT_LIMIT = 1.2
TOOLBOX_LIMIT = 1.5
TOOLBOX_SCRIPT = "bench_toolbox_load"
INCLUDES = (TOOLBOX_SCRIPT,)
"""Scripts whose rows this one already reports (``run_all`` does not run them again)."""


def import_rows() -> List[Result]:
    """``import arctoken_core`` and ``import arctoken_core.connection`` vs ``import requests``."""
    found = alternate(
        {
            "bare": Command(python("pass")),
            "core": Command(python("import arctoken_core")),
            "requests": Command(python("import requests")),
            "connection": Command(python("import arctoken_core.connection")),
        },
        RUNS,
    )
    bare = median_seconds(found["bare"])
    core = compare(found, "core", "requests")
    conn = compare(found, "connection", "requests")
    return [
        at_most(
            "cold start: import arctoken_core / requests",
            core.ratio,
            IMPORT_LIMIT,
            f"median {ms(core.subject)} vs {ms(core.baseline)}; above a bare interpreter "
            f"({ms(bare)}): {ms(core.subject - bare, True)} vs "
            f"{ms(core.baseline - bare, True)}; "
            f"{RUNS} paired runs",
        ),
        context(
            "  import arctoken_core.connection / requests",
            conn.ratio,
            f"median {ms(conn.subject)}, {ms(conn.subject - bare, True)} above a bare "
            "interpreter; it imports requests",
        ),
    ]


def toolbox_rows() -> List[Result]:
    """The rows of ``bench_toolbox_load`` (the .pyt loaded with the arcpy double)."""
    if importlib.util.find_spec(TOOLBOX_SCRIPT) is None:
        return [failed("toolbox load", f"{TOOLBOX_SCRIPT}.py is missing from this folder")]
    module: Any = importlib.import_module(TOOLBOX_SCRIPT)
    return [_as_result(row) for row in module.run()]


def _as_result(row: Any) -> Result:
    if isinstance(row, Result):
        return row
    return Result(str(row.name), float(row.measured), str(row.target), bool(row.ok), row.detail)


def run() -> List[Result]:
    """The cold-start rows: core imports, then the toolbox load."""
    return import_rows() + toolbox_rows()


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("cold start", run)


if __name__ == "__main__":
    sys.exit(main())
