"""The layer order and the absence of import cycles, checked on every module's imports.

Data walks down the layers (DESIGN §2): core ← store/sources ← ingest/actions ← agents/server
← tui ← cli. A module imports from its own layer or the ones below, never above: a screen that
imports the app, or the dashboard reaching into the command line, is how a house of small
modules becomes a knot. Every import counts, the lazy ones inside functions and those under
``TYPE_CHECKING`` too: a cycle that only the type checker walks is still a cycle for the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import oncall_tui

PACKAGE_ROOT = Path(oncall_tui.__file__).resolve().parent
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"", "core", "paths", "actor"}),
    frozenset({"store", "sources", "config"}),
    frozenset({"ingest", "actions"}),
    frozenset({"agents", "server", "scenario"}),
    frozenset({"tui"}),
    frozenset({"cli", "demo"}),
    frozenset({"__main__"}),
)
"""Top-level parts of the package, lowest first. ``""`` is the package's own ``__init__``
(empty: the themes find their folder through it); the demo is a command of the command line."""

Graph = Mapping[str, frozenset[str]]


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name → file, for every module of the package at ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph(root: Path) -> dict[str, frozenset[str]]:
    """Which of the package's modules each module imports (all imports, wherever they stand)."""
    modules = module_names(root)

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(owner(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                # "from pkg import mod" imports the module mod; "from mod import name" mod.
                found.update(owner(f"{base}.{alias.name}") or owner(base) for alias in node.names)
        graph[name] = frozenset(m for m in found if m is not None and m != name)
    return graph


def layer_of(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    for index, members in enumerate(LAYERS):
        if part in members:
            return index
    raise AssertionError(f"{module}: its package part {part!r} has no layer in LAYERS")


def upward_imports(graph: Graph) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_modules_import_only_their_layer_and_those_below() -> None:
    assert upward_imports(import_graph(PACKAGE_ROOT)) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert cycles(import_graph(PACKAGE_ROOT)) == []


def test_the_checks_catch_a_planted_upward_import_and_a_circle(tmp_path: Path) -> None:
    package = tmp_path / "oncall_tui"
    files = {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/model.py": "from oncall_tui.tui import app\n",  # core reaching up into the UI
        "tui/__init__.py": "",
        "tui/app.py": "from .screens import main\n",
        "tui/screens/__init__.py": "",
        "tui/screens/main.py": (  # the screen importing its app back, for the type checker only
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from oncall_tui.tui.app import App\n"
        ),
        "cli/__init__.py": "",
        "cli/run.py": "def main():\n    from oncall_tui.core.model import Model\n",
    }
    for relative, text in files.items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(text)

    graph = import_graph(package)

    assert upward_imports(graph) == ["oncall_tui.core.model imports oncall_tui.tui.app"]
    assert cycles(graph) == [["oncall_tui.tui.app", "oncall_tui.tui.screens.main"]]
