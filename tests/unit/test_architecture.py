"""House rules that keep the code easy to live in, checked rather than hoped for."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import oncall_tui.core

PACKAGE = Path(oncall_tui.core.__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = ("textual", "rich", "sqlite3", "sqlite_utils", "httpx", "starlette", "uvicorn")


def test_core_imports_no_ui_storage_or_network() -> None:
    modules = [
        m.name for m in pkgutil.walk_packages(oncall_tui.core.__path__, prefix="oncall_tui.core.")
    ]
    script = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN_IN_CORE!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_a_god_module() -> None:
    too_long = {
        str(p.relative_to(PACKAGE)): n
        for p in _python_files()
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert too_long == {}


def test_digests_are_never_compared_with_equality() -> None:
    """Signature and token checks must be constant time (hmac.compare_digest)."""
    suspicious = []
    for path in _python_files():
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
            ):
                names = {n.id.lower() for n in ast.walk(node) if isinstance(n, ast.Name)}
                names |= {n.attr.lower() for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                secretish = any(
                    w in n
                    for n in names
                    for w in ("digest", "signature", "hmac", "token", "secret")
                )
                if secretish and "# not a secret" not in lines[node.lineno - 1]:
                    suspicious.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert suspicious == []


def test_widgets_do_no_io() -> None:
    widgets = PACKAGE / "tui" / "widgets"
    for path in widgets.glob("*.py"):
        source = path.read_text()
        for forbidden in ("oncall_tui.store.journal", "sqlite3", "Store.open", "httpx"):
            assert forbidden not in source, f"{path.name} uses {forbidden}"


APP_MODULE = "oncall_tui.tui.app"
ASSEMBLERS = {"tui/app.py", "tui/run.py"}
"""The only dashboard modules that may import the app: it, and the factory that builds it."""


def imports_of_app(source: str, module: str) -> list[int]:
    """Lines of ``source`` (the module ``module``) that import the dashboard app, wherever they
    are: at the top, inside a function, or under ``if TYPE_CHECKING``."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            named = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            named = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(name == APP_MODULE or name.startswith(APP_MODULE + ".") for name in named):
            found.append(node.lineno)
    return found


def test_screens_and_the_palette_do_not_import_the_app() -> None:
    """Screens get their services handed to them; reaching up to the app would close a circle."""
    offenders = {}
    for path in sorted((PACKAGE / "tui").rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ASSEMBLERS:
            continue
        module = "oncall_tui." + relative.removesuffix(".py").replace("/", ".")
        if lines := imports_of_app(path.read_text(), module):
            offenders[relative] = lines
    assert offenders == {}


def test_the_app_import_check_sees_every_spelling() -> None:
    """A planted import of the app is found, however it is written."""
    screen = "oncall_tui.tui.screens.planted"
    planted = {
        "from oncall_tui.tui.app import OncallApp\n": [1],
        "import oncall_tui.tui.app\n": [1],
        "from oncall_tui.tui import app\n": [1],
        "from .. import app\n": [1],
        "from ..app import OncallApp\n": [1],
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from oncall_tui.tui.app import OncallApp\n": [3],
        "def f() -> None:\n    from oncall_tui.tui.app import AppOptions\n": [2],
    }
    for source, lines in planted.items():
        assert imports_of_app(source, screen) == lines, source
    clean = "from oncall_tui.tui.services import DashboardServices\nfrom . import main\n"
    assert imports_of_app(clean, screen) == []


JOURNAL_MODULE = "core/journal_kinds.py"
"""The one module that spells journal kinds; everything else names them through ``Kind``."""


def kind_literals(source: str) -> list[int]:
    """Lines of ``source`` where a string spells a journal kind, alone or quoted inside SQL.

    Docstrings (and other bare strings) are prose and may name kinds. A sender's own event
    types (PagerDuty's ``incident.triggered``) are not journal kinds and pass.
    """
    from oncall_tui.core.journal import Kind

    kinds = {kind.value for kind in Kind}
    tree = ast.parse(source)
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            text = node.value
            if text in kinds or any(f"'{kind}'" in text for kind in kinds):
                found.append(node.lineno)
    return sorted(found)


def test_no_journal_kind_is_spelled_outside_the_journal_module() -> None:
    offenders = {}
    for path in _python_files():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative != JOURNAL_MODULE and (lines := kind_literals(path.read_text())):
            offenders[relative] = lines
    assert offenders == {}


def test_the_kind_literal_check_finds_a_planted_kind() -> None:
    assert kind_literals('if entry.kind == "push.proposed":\n    pass\n') == [1]
    assert kind_literals("QUIET = (\n    'signal.recorded',\n)\n") == [2]
    assert kind_literals("SQL = \"SELECT body FROM journal WHERE kind = 'note.added'\"\n") == [1]
    assert kind_literals("x = f\"{a} kind = 'push.approved'\"\n") == [1]
    assert kind_literals('"""Folds push.proposed entries."""\nx = Kind.PUSH_PROPOSED\n') == []
    assert kind_literals('EVENT = "incident.triggered"\nPREFIX = "push."\n') == []
