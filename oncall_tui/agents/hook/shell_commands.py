"""What one simple command writes, by the rules of the program it runs (no IO, stdlib only).

Each rule reads the program's own options the way its manual describes them (GNU coreutils,
sed, perl, git) and records the operands it would write. A program without a rule may write
anything, so it makes the reading uncertain; only programs known to read alone (``cat``,
``grep``, ``pytest``...) are certain to write nothing.

This module finds the program behind wrappers (``sudo``, ``env``, ``uv run``...) and hands it to
its family's rules, each imported only when a command needs it
(:mod:`~oncall_tui.agents.hook.shell_file_rules`, :mod:`~oncall_tui.agents.hook.shell_editors`,
:mod:`~oncall_tui.agents.hook.shell_code_rules`, :mod:`~oncall_tui.agents.hook.shell_git`): the
hook is a fresh process before every tool call, and reading every rule costs it milliseconds.
"""

from __future__ import annotations

import posixpath

from oncall_tui.agents.hook.shell_findings import Stdin, operands

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from oncall_tui.agents.hook.shell_findings import Findings
    from oncall_tui.agents.hook.shell_lexer import Word

# fmt: off
READS_ONLY = frozenset({
    "cat", "less", "more", "head", "tail", "grep", "egrep", "fgrep", "rg", "ag", "ack", "ls",
    "tree", "wc", "diff", "cmp", "comm", "file", "stat", "echo", "printf", "true", "false",
    "test", "[", "[[", "pwd", "which", "type", "whoami", "id", "date", "uname", "hostname",
    "printenv", "basename", "dirname", "realpath", "readlink", "cut", "tr", "nl", "od", "xxd",
    "hexdump", "md5sum", "sha1sum", "sha256sum", "du", "df", "ps", "jq", "column", "fold", "rev",
    "seq", "sleep", "wait", "exit", "return", "export", "unset", "set", "shopt", "alias", "read",
    "pytest", "py.test", "mypy", "pyright", "pyflakes", "flake8", "pylint", "tac", "strings",
    "history", "locate", "whereis",
})
# fmt: on
SHELLS = frozenset(["sh", "bash", "zsh", "dash", "ksh"])
INTERPRETERS = frozenset(["python", "pypy", "node", "nodejs", "ruby", "deno", "bun", "php"])
"""Programs whose inline code is checked for writes; a version may follow (``python3.11``)."""
WRAPPERS_WITH_ARGUMENTS = {
    "sudo": frozenset(["u", "g", "h", "p", "r", "t", "C", "D", "T", "U"]),
    "doas": frozenset(["u", "C"]),
    "nice": frozenset(["n"]),
    "timeout": frozenset(["k", "s"]),
    "stdbuf": frozenset(["i", "o", "e"]),
    "env": frozenset(["u", "C", "S"]),
}
PLAIN_WRAPPERS = frozenset(["command", "builtin", "exec", "nohup", "time"])
# fmt: off
FILE_PROGRAMS = frozenset({
    "tee", "rm", "rmdir", "unlink", "shred", "touch", "mkdir", "truncate", "mv", "cp", "install",
    "ln", "chmod", "chown", "chgrp", "dd", "find", "sort", "uniq", "curl", "wget", "black",
    "isort", "ruff",
})
# fmt: on
"""Programs with a rule in :data:`~oncall_tui.agents.hook.shell_file_rules.RULES`."""


def analyze_command(
    argv: list[Word], stdin: Stdin, cwd: str, findings: Findings, depth: int
) -> None:
    """Record what the simple command ``argv`` (assignments already removed) writes."""
    argv = _unwrap(argv, findings)
    if not argv:
        return
    if argv[0].expands:
        findings.uncertain = True
        return
    name = posixpath.basename(argv[0].text)
    args = argv[1:]
    if name in READS_ONLY:
        return
    if name in FILE_PROGRAMS:
        from oncall_tui.agents.hook.shell_file_rules import RULES

        RULES[name](args, cwd, findings)
    elif name in ("sed", "gsed"):
        from oncall_tui.agents.hook.shell_editors import sed_command

        sed_command(args, cwd, findings)
    elif name in ("awk", "gawk"):
        from oncall_tui.agents.hook.shell_editors import awk_command

        awk_command(args, cwd, findings)
    elif name == "git":
        from oncall_tui.agents.hook.shell_git import git_command

        git_command(args, stdin, cwd, findings)
    elif name in ("patch", "apply_patch", "applypatch"):
        from oncall_tui.agents.hook.shell_code_rules import patch_command

        patch_command(name, args, stdin, cwd, findings)
    elif name in SHELLS:
        from oncall_tui.agents.hook.shell_code_rules import shell_command

        shell_command(args, stdin, cwd, findings, depth)
    elif name == "xargs":
        findings.uncertain = True  # the operands arrive on stdin
        rest, _ = _leading_options(args, "IndPLsaE", ())
        analyze_command(rest, Stdin(), cwd, findings, depth)
    elif name == "perl":
        from oncall_tui.agents.hook.shell_code_rules import perl_command

        perl_command(args, stdin, cwd, findings)
    elif name.rstrip("0123456789.") in INTERPRETERS:
        from oncall_tui.agents.hook.shell_code_rules import interpreter_command

        module_command = interpreter_command(args, stdin, cwd, findings)
        if module_command is not None:
            analyze_command(module_command, stdin, cwd, findings, depth)
    else:
        findings.uncertain = True


def _unwrap(argv: list[Word], findings: Findings) -> list[Word]:
    """Skip ``sudo``, ``env``, ``command``... and their own options to the command they run."""
    while argv:
        name = posixpath.basename(argv[0].text)
        if name in PLAIN_WRAPPERS:
            if name == "command" and any(w.text in ("-v", "-V") for w in argv[1:2]):
                return []  # ``command -v x`` only looks x up
            argv = [w for w in argv[1:2] if w.text != "-p"] + argv[2:]
        elif name in WRAPPERS_WITH_ARGUMENTS:
            argv, _ = _leading_options(argv[1:], "".join(WRAPPERS_WITH_ARGUMENTS[name]), ())
            if name == "env":
                while argv and "=" in argv[0].text:
                    argv = argv[1:]
            elif name == "timeout" and argv:
                argv = argv[1:]  # the duration
        elif name in ("uv", "poetry", "pipenv") and argv[1:2] and argv[1].text == "run":
            argv, _ = _leading_options(argv[2:], "", ("with", "python", "group", "extra"))
        else:
            return argv
    return argv


def _leading_options(
    args: list[Word], takes_value: str, long_takes_value: tuple[str, ...]
) -> tuple[list[Word], dict[str, str]]:
    """Options before the first operand, which starts a command of its own."""
    for index, word in enumerate(args):
        if not word.text.startswith("-") or word.text == "-":
            before = args[:index]
            if before and _needs_value(before[-1].text, takes_value, long_takes_value):
                continue
            _, options = operands(before, takes_value, long_takes_value)
            return args[index:], options
        if word.text == "--":
            _, options = operands(args[:index], takes_value, long_takes_value)
            return args[index + 1 :], options
    return [], {}


def _needs_value(option: str, takes_value: str, long_takes_value: tuple[str, ...]) -> bool:
    if option.startswith("--"):
        return "=" not in option and option[2:] in long_takes_value
    return option.startswith("-") and len(option) == 2 and option[1] in takes_value
