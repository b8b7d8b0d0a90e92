"""Imports in src/pipekit point down the floors drawn in docs/architecture.md, and no module
imports itself round a loop.

A package may import only packages on a lower floor. A new package must be given a floor
here (and in the doc) before it can import anything, so the picture never drifts from code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import REPO

SOURCE = REPO / "src" / "pipekit"

# Floor of each top-level package or module of pipekit; see docs/architecture.md.
FLOORS: dict[str, int] = {
    # base: talks to models, reads the environment, guards sockets; imports no pipekit package
    "settings": 0,
    "net": 0,
    "auth": 0,
    "llm": 1,
    # low: the contracts capabilities share, and where state lives
    "tools": 2,
    "embeddings": 2,
    "valves": 2,
    "stores": 2,
    # pipe bases: what every pipeline file and filter stands on
    "pipe": 3,
    "filter": 4,
    "chat": 4,
    # capabilities: none imports another
    "rag": 5,
    "mcp": 5,
    "guards": 5,
    "models": 5,
    # assembling capabilities
    "agents": 6,
    "incident": 7,
    # top: the server, the fakes, the benchmarks and the command line
    "server": 8,
    "testing": 8,
    "bench": 9,
    "cli": 9,
    "migrate_state": 9,
}


def imported_packages(path: Path) -> set[str]:
    """The pipekit packages a module imports, lazy imports inside functions included."""
    package = path.relative_to(SOURCE).parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.ImportFrom):  # relative: resolve against this package
            base = ("pipekit", *package[: len(package) - node.level + 1])
            names = [".".join([*base, node.module or ""])]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("pipekit.")}
    return found


def owner(path: Path) -> str:
    return path.relative_to(SOURCE).parts[0].removesuffix(".py")


MODULES = sorted(p for p in SOURCE.rglob("*.py") if p.name != "__init__.py" or p.parent != SOURCE)


def test_every_package_has_a_floor():
    packages = {owner(path) for path in MODULES}
    assert packages - FLOORS.keys() == set(), "give new packages a floor here and in the doc"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_imports_point_down(path):
    importer = owner(path)
    upward = {
        target
        for target in imported_packages(path) - {importer}
        if FLOORS.get(target, 99) >= FLOORS.get(importer, -1)
    }
    assert not upward, (
        f"{path.relative_to(SOURCE)} ({importer}, floor {FLOORS.get(importer)}) imports "
        + ", ".join(f"{t} (floor {FLOORS.get(t)})" for t in sorted(upward))
        + ": move the shared piece down, or pass it in from above"
    )


def test_the_rule_catches_an_upward_import(tmp_path, monkeypatch):
    # The walker itself must see lazy and relative imports, or the test above proves nothing.
    fake = tmp_path / "pipekit"
    (fake / "rag").mkdir(parents=True)
    module = fake / "rag" / "leak.py"
    module.write_text(
        "from . import index\n"
        "def later():\n"
        "    from pipekit.agents.pipe import AgentPipe\n"
        "from ..tools import Tool\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["SOURCE"]), "SOURCE", fake)
    assert imported_packages(module) == {"rag", "agents", "tools"}


def module_name(path: Path) -> str:
    parts = ("pipekit", *path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The pipekit modules a module imports (a package's `from . import x` names x)."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Imports for type hints only never run: they make no loop.
    type_only = {
        id(inner)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for inner in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {target for target in targets if target in known}
    return found - {module_name(path)}


def test_no_module_imports_itself_round_a_loop():
    graph = {module_name(p): p for p in SOURCE.rglob("*.py")}
    edges = {name: imported_modules(path, set(graph)) for name, path in graph.items()}
    # A package's __init__ re-exporting its modules is not a loop back to them.
    edges = {
        name: {t for t in targets if not name.startswith(t + ".")}
        for name, targets in edges.items()
    }
    loops = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                loops.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not loops, "import loops: " + "; ".join(loops)
