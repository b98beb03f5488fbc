"""Loading ArcTokenTools.pyt costs about what importing arctoken_core alone costs.

ArcGIS Pro imports the .pyt whenever it loads the toolbox, so loading must stay cheap: no
requests, no connection code. Three commands run in fresh processes, interleaved:

- baseline: ``import arctoken_core`` (the package is lazy: a few microseconds of work);
- load: import the .pyt with the arcpy double as Pro does, build the Toolbox and its tools;
- open: the same, then ``getParameterInfo`` of both tools (a tool dialog opening).

The ratio of median wall times, load / baseline, is the number that matters; open / baseline
is context (the value lists are read from ``arctoken_core.fields``, which imports requests).
"""

from __future__ import annotations

import sys
from typing import List

from common import (
    ROOT,
    Command,
    Result,
    alternate,
    at_most,
    context,
    ms,
    python,
    ratio_of_medians,
    script_main,
)

RUNS = 15
LIMIT = 1.5
DOUBLE = str(ROOT / "tests" / "arcpy_double")
PYT = str(ROOT / "ArcTokenTools.pyt")

LOAD = f"""
import importlib.machinery, importlib.util, sys
sys.path.insert(0, {DOUBLE!r})
loader = importlib.machinery.SourceFileLoader("ArcTokenTools", {PYT!r})
spec = importlib.util.spec_from_loader("ArcTokenTools", loader)
module = importlib.util.module_from_spec(spec)
loader.exec_module(module)
tools = [cls() for cls in module.Toolbox().tools]
assert "requests" not in sys.modules
"""
OPEN = LOAD + "\nparams = [tool.getParameterInfo() for tool in tools]\n"


def run() -> List[Result]:
    """Time the three commands in fresh processes and compare their medians."""
    found = alternate(
        {
            "baseline": Command(python("import arctoken_core")),
            "load": Command(python(LOAD)),
            "open": Command(python(OPEN)),
        },
        RUNS,
    )
    load, load_s, base_s = ratio_of_medians(found, "load", "baseline")
    opened, open_s, _ = ratio_of_medians(found, "open", "baseline")
    return [
        at_most(
            "load .pyt (with the arcpy double) / import arctoken_core",
            load,
            LIMIT,
            f"median {ms(load_s)} vs {ms(base_s)}, {RUNS} fresh processes each",
        ),
        context(
            "load .pyt + getParameterInfo / import arctoken_core",
            opened,
            f"median {ms(open_s)} vs {ms(base_s)}",
        ),
    ]


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("toolbox load", run)


if __name__ == "__main__":
    sys.exit(main())
