"""The house's layers: a lower layer never imports a higher one, and nothing imports in a cycle.

The order is the README's "Layout" (bottom first). Imports under ``if TYPE_CHECKING:`` are
for annotations only and never run, so they may point anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple, Union

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "arctoken_core"

LAYERS: List[Tuple[str, ...]] = [
    ("_version", "errors", "clock"),
    ("secrets", "urls", "files"),
    ("kinds", "tokens"),
    ("fields", "profiles"),
    ("transport",),
    ("signin",),
    ("connection", "options"),
    ("run",),
    ("toolbox",),
    ("cli", "emulator", "__init__", "__main__"),
]
"""Bottom first: a module may import its own layer and the layers below it."""


def _layer_of(module: str) -> int:
    """The layer of ``arctoken_core.<module>`` (its first name decides)."""
    head = module.split(".")[0]
    for number, names in enumerate(LAYERS):
        if head in names:
            return number
    raise AssertionError(f"arctoken_core.{module} is in no layer: add it to LAYERS and the README")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _runtime_imports(tree: ast.Module) -> Iterator[Union[ast.ImportFrom, ast.Import]]:
    """Every import statement that can run (not under ``if TYPE_CHECKING:``)."""
    skip: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            skip.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skip:
            yield node


def _targets(path: Path, node: Union[ast.ImportFrom, ast.Import]) -> List[str]:
    """The ``arctoken_core`` modules an import names (relative ones resolved)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif node.level:
        package = list(path.relative_to(PACKAGE).parent.parts)
        base = package[: len(package) - (node.level - 1)]
        if node.module:
            names = [".".join(["arctoken_core", *base, node.module])]
        else:
            names = [".".join(["arctoken_core", *base, a.name]) for a in node.names]
    else:
        names = [node.module or ""]
    found = []
    for name in names:
        if name == "arctoken_core":
            found.append("__init__")
        elif name.startswith("arctoken_core."):
            found.append(name[len("arctoken_core.") :])
    return found


def _graph() -> Dict[str, Set[str]]:
    graph: Dict[str, Set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = _module_name(path)
        graph[module] = {t for node in _runtime_imports(tree) for t in _targets(path, node)}
    return graph


def test_no_lower_layer_imports_a_higher_one() -> None:
    upward = [
        f"arctoken_core.{module} (layer {_layer_of(module)}) imports arctoken_core.{target} "
        f"(layer {_layer_of(target)})"
        for module, targets in _graph().items()
        for target in targets
        if _layer_of(target) > _layer_of(module)
    ]
    assert upward == []


def _known(graph: Dict[str, Set[str]], name: str) -> str:
    """``name`` or the package module that holds it (``from .x import y`` names y)."""
    while name not in graph and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def test_no_module_imports_itself_in_a_cycle() -> None:
    graph = _graph()
    edges = {m: {_known(graph, t) for t in ts} - {m} for m, ts in graph.items()}
    cycles = []
    state: Dict[str, int] = {}

    def visit(module: str, trail: List[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join(trail[trail.index(target) :] + [target]))
            elif target in edges and not state.get(target):
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(edges):
        if not state.get(module):
            visit(module, [module])
    assert [c for c in cycles if not _package_to_child(c)] == []


def _package_to_child(cycle: str) -> bool:
    """A package's ``__init__`` re-exporting its own child is not a cycle between rooms."""
    names = cycle.split(" -> ")
    return len(set(names)) == 2 and any(a.startswith(b + ".") for a in names for b in names)


def test_the_emulator_imports_nothing_from_the_client() -> None:
    for path in sorted((ROOT / "arctoken_emulator").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert not (node.module or "").startswith("arctoken_core"), path.name
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith("arctoken_core") for a in node.names), path.name


def test_modules_stay_small_enough_to_read() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}
