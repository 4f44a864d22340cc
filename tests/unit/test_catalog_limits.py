"""``oncall-tui catalog load`` refuses a hostile or absurd catalog at once, in one line.

Run as a user runs it, a process of its own: the point is that no file, however deep, large or
full of aliases, ends in a traceback or keeps the command busy for minutes.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from oncall_tui.core.bounded_yaml import MAX_NODES
from oncall_tui.core.catalog_yaml import MAX_CATALOG_BYTES, parse_catalog
from tests.support.environment import is_machine_setting

LIMIT_S = 60
TOO_DEEP = "nested deeper than 64 levels, far more than a catalog needs"
TOO_MANY = f"more than {MAX_NODES:,} YAML nodes (an alias counts as all it stands for)"
TOO_LARGE = "catalog too large: over 4 MiB, the most a catalog may be"


def alias_expansion() -> str:
    """One list of 10,000 owners named by 10,000 services: 300 KB that read as 10**8 owners."""
    owners = ", ".join(["team"] * 10_000)
    services = [f"  s{n}: {{owners: *owners}}" for n in range(1, 10_000)]
    return "\n".join(["services:", f"  s0: {{owners: &owners [{owners}]}}", *services]) + "\n"


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


CASES = [
    (
        "flow-nesting",
        "services:\n  payments:\n    description: " + "[" * 10_000 + "]" * 10_000 + "\n",
        3,
        TOO_DEEP,
    ),
    (
        "block-nesting",
        "services:\n" + "".join(" " * (n + 1) + f"level{n}:\n" for n in range(1_000)),
        65,
        TOO_DEEP,
    ),
    ("alias-expansion", alias_expansion(), 51, TOO_MANY),
    (
        "just-over-the-size",
        "services:\n  payments: {repo: acme/payments}\n"
        + "# padding\n" * (MAX_CATALOG_BYTES // 10 + 1),
        1,
        TOO_LARGE,
    ),
]


def catalog_load(tmp_path: Path, file: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not is_machine_setting(k)}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(tmp_path / "oncall.db"), "catalog"]
        + ["load", str(file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=LIMIT_S,
        check=False,
    )


def catalogs_loaded(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT count(*) FROM journal WHERE kind = 'catalog.loaded'").fetchone()
    return int(row[0])


@pytest.mark.parametrize(
    ("content", "line", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_hostile_catalog_is_one_line_of_error(
    tmp_path: Path, content: str, line: int, problem: str
) -> None:
    file = write(tmp_path / "catalog.yaml", content)

    done = catalog_load(tmp_path, file)

    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        f"Error: {file}:{line}: {problem}\n",
    )
    assert catalogs_loaded(tmp_path / "oncall.db") == 0


def test_a_55_mb_catalog_is_refused_at_once(tmp_path: Path) -> None:
    file = tmp_path / "catalog.yaml"
    with file.open("wb") as out:  # valid YAML, which would keep the parser busy for a minute
        out.write(b"services:\n  payments: {repo: acme/payments}\n")
        out.writelines([b"# padding" * 111 + b"\n"] * 55_000)

    done = catalog_load(tmp_path, file)
    file.unlink()  # 55 MB: not left behind in the kept temporary directories

    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"Error: {file}:1: {TOO_LARGE}\n")


def test_aliases_within_the_limits_still_load() -> None:
    text = (
        "services:\n  payments:\n    owners: &owners [team-payments, team-sre]\n"
        "  ledger:\n    owners: *owners\n"
    )
    catalog = parse_catalog(text, "catalog.yaml")
    assert catalog.services["ledger"].owners == ["team-payments", "team-sre"]
