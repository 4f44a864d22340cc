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
    modules = [f"oncall_tui.core.{m.name}" for m in pkgutil.iter_modules(oncall_tui.core.__path__)]
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
