"""The shell reading loads only the rules a command needs, and its tokens keep value semantics.

The hook is a fresh process before every tool call, so what the reading imports is paid on each
one: a command reads through its own program's family of rules, and neither ``typing`` nor
``dataclasses`` is imported (each costs milliseconds to import, each dataclass more to create).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from oncall_tui.agents.hook.shell_commands import FILE_PROGRAMS, READS_ONLY
from oncall_tui.agents.hook.shell_file_rules import RULES
from oncall_tui.agents.hook.shell_lexer import Operator, Redirect, Word, tokenize

FAMILIES = (
    "oncall_tui.agents.hook.shell_file_rules",
    "oncall_tui.agents.hook.shell_editors",
    "oncall_tui.agents.hook.shell_code_rules",
    "oncall_tui.agents.hook.shell_git",
    "oncall_tui.agents.hook.patch_paths",
)


def _loaded_after(command: str) -> dict[str, object]:
    """In a fresh interpreter: the families imported by reading ``command``, and its answer."""
    script = (
        "import json, sys\n"
        "from oncall_tui.agents.hook.shell_writes import shell_write_targets\n"
        f"found = shell_write_targets({command!r})\n"
        f"families = [m for m in {FAMILIES!r} if m in sys.modules]\n"
        "print(json.dumps({'families': families, 'paths': list(found.paths),"
        " 'heavy': [m for m in ('typing', 'dataclasses') if m in sys.modules]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded: dict[str, object] = json.loads(done.stdout)
    return loaded


def test_every_file_program_has_its_rule() -> None:
    assert set(RULES) == FILE_PROGRAMS
    assert not FILE_PROGRAMS & READS_ONLY


@pytest.mark.parametrize(
    ("command", "families", "paths"),
    [
        ("grep -rn retry services", [], []),
        ("sed -i 's/3/5/' services/retry.py", ["shell_editors"], ["services/retry.py"]),
        ("rm -f build/out.txt", ["shell_file_rules"], ["build/out.txt"]),
        ("git checkout -- a.py", ["shell_git"], ["a.py"]),
        ("bash -c 'touch x.txt'", ["shell_file_rules", "shell_code_rules"], ["x.txt"]),
        (
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: n.py\n+x\n*** End Patch\nEOF",
            ["shell_code_rules", "patch_paths"],
            ["n.py"],
        ),
    ],
)
def test_a_command_loads_only_the_rules_of_its_program(
    command: str, families: list[str], paths: list[str]
) -> None:
    loaded = _loaded_after(command)
    assert loaded["families"] == [m for m in FAMILIES if m.rsplit(".", 1)[1] in families]
    assert loaded["paths"] == paths
    assert loaded["heavy"] == []


def test_tokens_compare_by_value() -> None:
    word = Word("a.txt", quoted=True)
    assert word == Word("a.txt", False, True)
    assert word != Word("a.txt")
    assert hash(word) == hash(Word("a.txt", quoted=True))
    assert Operator(")") == Operator(")") != Word(")")
    assert repr(word) == "Word(text='a.txt', expands=False, quoted=True)"
    redirect = tokenize("echo hi > out.txt").tokens[-1]
    assert redirect == Redirect(">", "", Word("out.txt"))
    with pytest.raises(TypeError):
        hash(redirect)  # mutable: a heredoc's body is filled in after its line
