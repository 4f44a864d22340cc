"""What coreutils-style programs write, read from their options and operands (no IO, stdlib
only): ``rm``, ``cp``, ``mv``, ``touch``, ``chmod``, ``find -delete``, ``sort -o``, downloads
(``curl -o``, ``wget -O``) and formatters that rewrite their operands (``black``, ``ruff format``).
"""

from __future__ import annotations

import posixpath
import re

from oncall_tui.agents.hook.shell_findings import Findings, operands
from oncall_tui.agents.hook.shell_lexer import Word

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from collections.abc import Callable

    Rule = Callable[[list[Word], str, Findings], None]


def _all_operands(
    takes_value: str = "", long: tuple[str, ...] = (), *, target_option: bool = False
) -> Rule:
    """A rule for programs that write every operand (and ``-t DIR`` when ``target_option``)."""

    def rule(args: list[Word], cwd: str, findings: Findings) -> None:
        found, options = operands(args, takes_value, long)
        for key in ("t", "target-directory") if target_option else ():
            if options.get(key):
                findings.write(options[key], cwd)
        for word in found:
            findings.write(word, cwd)

    return rule


def _copy_like(args: list[Word], cwd: str, findings: Findings) -> None:
    """``cp``/``install``/``ln``: only the destination (last operand or ``-t DIR``) is written."""
    found, options = operands(args, "tSmog", ("target-directory", "suffix", "mode", "owner"))
    target = options.get("t") or options.get("target-directory")
    if target:
        findings.write(target, cwd)
    elif "d" in options or "directory" in options:
        for word in found:  # ``install -d`` creates every operand
            findings.write(word, cwd)
    elif len(found) >= 2:
        findings.write(found[-1], cwd)
    elif found:
        findings.write(posixpath.basename(found[0].text.rstrip("/")), cwd)


def _mode_change(args: list[Word], cwd: str, findings: Findings) -> None:
    """``chmod``/``chown``/``chgrp``: the first operand is a mode or owner, unless
    ``--reference`` gives it; ``chmod -x f`` is a mode, not an option."""
    found = [w for w in args if not re.fullmatch(r"-[RcfvhHLP]+|--[a-z-]+(=.*)?", w.text)]
    reference = any(w.text.startswith("--reference") for w in args)
    for word in found if reference else found[1:]:
        findings.write(word, cwd)


def _dd(args: list[Word], cwd: str, findings: Findings) -> None:
    for word in args:
        if word.text.startswith("of="):
            findings.write(Word(word.text[3:], word.expands), cwd)


def _find(args: list[Word], cwd: str, findings: Findings) -> None:
    starts = []
    for word in args:
        if word.text.startswith(("-", "(", "!")):
            break
        starts.append(word)
    actions = {w.text for w in args}
    if actions & {"-delete"}:
        for start in starts or [Word(".")]:
            findings.write(start, cwd)
    if actions & {"-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls"}:
        findings.uncertain = True


def _sort(args: list[Word], cwd: str, findings: Findings) -> None:
    _, options = operands(args, "oktST", ("output", "key", "field-separator"))
    output = options.get("o") or options.get("output")
    if output:
        findings.write(output, cwd)


def _uniq(args: list[Word], cwd: str, findings: Findings) -> None:
    found, _ = operands(args, "fsw", ("skip-fields", "skip-chars", "check-chars"))
    if len(found) >= 2:
        findings.write(found[1], cwd)


def _curl(args: list[Word], cwd: str, findings: Findings) -> None:
    """``curl -o FILE``; ``-O`` takes the name from the URL, which we do not guess."""
    for index, word in enumerate(args):
        value = args[index + 1] if index + 1 < len(args) else None
        if word.text in ("-o", "--output") and value is not None and value.text != "-":
            findings.write(value, cwd)
        elif word.text.startswith("--output="):
            findings.write(word.text.partition("=")[2], cwd)
        elif word.text in ("-O", "--remote-name", "--remote-name-all", "-J"):
            findings.uncertain = True


def _wget(args: list[Word], cwd: str, findings: Findings) -> None:
    """``wget -O FILE``; without it the file is named after the URL, which we do not guess."""
    _, options = operands(args, "OoPaeUtTwQ", ("output-document", "directory-prefix"))
    output = options.get("O") or options.get("output-document")
    if output is None:
        findings.uncertain = True
    elif output != "-":
        findings.write(output, cwd)


def _ruff(args: list[Word], cwd: str, findings: Findings) -> None:
    """``ruff format`` and ``ruff check --fix`` rewrite their operands; ``ruff check`` reads."""
    found, options = operands(args, "", ("config", "select", "ignore", "extend-select"))
    if not found:
        return
    command, paths = found[0].text, found[1:]
    if command == "format" or (command == "check" and "fix" in options):
        for path in paths or [Word(".")]:
            findings.write(path, cwd)


RULES: dict[str, Rule] = {
    "tee": _all_operands(),
    "rm": _all_operands(),
    "rmdir": _all_operands(),
    "unlink": _all_operands(),
    "shred": _all_operands("ns", ("iterations", "size")),
    "touch": _all_operands("drt", ("date", "reference")),
    "mkdir": _all_operands("m", ("mode",)),
    "truncate": _all_operands("sr", ("size", "reference")),
    "mv": _all_operands("tS", ("target-directory", "suffix"), target_option=True),
    "cp": _copy_like,
    "install": _copy_like,
    "ln": _copy_like,
    "chmod": _mode_change,
    "chown": _mode_change,
    "chgrp": _mode_change,
    "dd": _dd,
    "find": _find,
    "sort": _sort,
    "uniq": _uniq,
    "curl": _curl,
    "wget": _wget,
    "black": _all_operands("lt", ("line-length", "target-version", "config")),
    "isort": _all_operands(),
    "ruff": _ruff,
}
"""Each program's rule, by name (:data:`~oncall_tui.agents.hook.shell_commands.FILE_PROGRAMS`)."""
