"""Loading ArcTokenTools.pyt costs about what importing arctoken_core alone costs.

ArcGIS Pro imports the .pyt whenever it loads the toolbox, so loading must stay cheap: no
requests, no connection code. Three commands run in fresh processes, interleaved:

- baseline: import arcpy (the double; inside Pro arcpy is already loaded) and
  ``import arctoken_core`` (the package is lazy: a few microseconds of work);
- load: the same, then import the .pyt as Pro does and build the Toolbox and its tools;
- open: the same, then ``getParameterInfo`` and ``updateMessages`` of both tools (a tool
  dialog opening and validating), still without importing requests.

The ratio of median wall times, load / baseline, is the number that matters; open / baseline
is context.
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
LIMIT = 1.3
DOUBLE = str(ROOT / "tests" / "arcpy_double")
PYT = str(ROOT / "ArcTokenTools.pyt")

BASELINE = f"""
import sys
sys.path.insert(0, {DOUBLE!r})
import arcpy, arctoken_core
"""
LOAD = (
    BASELINE
    + f"""
import importlib.machinery, importlib.util
loader = importlib.machinery.SourceFileLoader("ArcTokenTools", {PYT!r})
spec = importlib.util.spec_from_loader("ArcTokenTools", loader)
module = importlib.util.module_from_spec(spec)
loader.exec_module(module)
tools = [cls() for cls in module.Toolbox().tools]
assert "requests" not in sys.modules
"""
)
OPEN = (
    LOAD
    + """
for tool in tools:
    params = tool.getParameterInfo()
    tool.updateParameters(params)
    tool.updateMessages(params)
assert "requests" not in sys.modules
"""
)


def run() -> List[Result]:
    """Time the three commands in fresh processes and compare their medians."""
    found = alternate(
        {
            "baseline": Command(python(BASELINE)),
            "load": Command(python(LOAD)),
            "open": Command(python(OPEN)),
        },
        RUNS,
    )
    load, load_s, base_s = ratio_of_medians(found, "load", "baseline")
    opened, open_s, _ = ratio_of_medians(found, "open", "baseline")
    return [
        at_most(
            "load .pyt / import arcpy double + arctoken_core",
            load,
            LIMIT,
            f"median {ms(load_s)} vs {ms(base_s)}, {RUNS} fresh processes each",
        ),
        context(
            "load .pyt + open and validate both tools / same",
            opened,
            f"median {ms(open_s)} vs {ms(base_s)}",
        ),
    ]


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("toolbox load", run)


if __name__ == "__main__":
    sys.exit(main())
