"""What programs that run code write: interpreters, shells and ``patch`` (no IO, stdlib only).

Inline code (``python -c``, ``perl -e``, a heredoc on stdin) is searched for words that may write
a file; ``bash -c SCRIPT`` is read again as a script of its own; a patch writes the paths named
inside it. Code kept in a file cannot be read here, so it makes the reading uncertain.
"""

from __future__ import annotations

import re

from oncall_tui.agents.hook.shell_findings import (
    Findings,
    Stdin,
    join_path,
    operands,
    record_patch,
)
from oncall_tui.agents.hook.shell_lexer import Word

# A pattern string, compiled by ``re`` on first use: commands that run no inline code never pay
# for it, and the hook pays for every module-level compile before each tool call.
WRITE_HINTS = (
    r"""open\s*\([^)]*,\s*(mode\s*=\s*)?['"][rbt]*[wax+]"""
    r"""|\.open\s*\(\s*(mode\s*=\s*)?['"][rbt]*[wax+]"""
    r"|write|unlink|remove|rename|rmtree|rmdir|mkdir|touch|truncate|copy|move|chmod|chown"
    r"|shutil|subprocess|system|popen|exec|spawn|fileinput|FileUtils|File\.open|\brm(Sync)?\("
    r"|symlink|child_process|>"
)
"""Words in inline interpreter code that may write a file (or run something that does)."""


def perl_command(args: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    """``perl -i[EXT] -pe CODE FILES`` writes FILES; other perl code is checked for writes."""
    in_place = False
    code: str | None = None
    pos = 0
    while pos < len(args) and args[pos].text.startswith("-") and args[pos].text != "-":
        text = args[pos].text
        pos += 1
        if text == "--":
            break
        for index, char in enumerate(text[1:], start=1):
            rest = text[index + 1 :]
            if char == "i":
                in_place = True
                break
            if char in "eE":
                if not rest and pos < len(args):
                    rest, pos = args[pos].text, pos + 1
                code = (code or "") + rest + "\n"
                break
            if char in "MmIlF0dDxC":
                break  # the rest of the cluster is this option's value
    files = args[pos:]
    if code is None:
        if not files:
            code = stdin.text
        else:
            findings.uncertain = True  # a script file we cannot read
            files = files[1:]
    if in_place:
        for file in files:
            findings.write(file, cwd)
    elif code is None or re.search(WRITE_HINTS, code):
        findings.uncertain = True
    if code:
        findings.mention_text(code, cwd)


def interpreter_command(
    args: list[Word], stdin: Stdin, cwd: str, findings: Findings
) -> list[Word] | None:
    """``python -c CODE``, ``node -e CODE``, ``python -m MODULE ARGS``, ``python SCRIPT``.

    ``python -m MODULE ARGS`` is judged as the command ``MODULE ARGS``: that command is
    returned, for the caller to judge as it judges any other (None when there is none)."""
    code: str | None = None
    pos = 0
    while pos < len(args) and args[pos].text.startswith("-") and args[pos].text != "-":
        text = args[pos].text
        pos += 1
        flag = text[:2] if not text.startswith("--") else text.partition("=")[0]
        if flag in ("-c", "-e", "-p", "--eval", "--print", "-m", "-r", "--require"):
            value = text[2:] if not text.startswith("--") else text.partition("=")[2]
            if not value and pos < len(args):
                value, pos = args[pos].text, pos + 1
            if flag == "-m":
                return [Word(value), *args[pos:]]
            code = (code or "") + value + "\n"
        elif flag in ("-W", "-X"):
            pos += 0 if len(text) > 2 else 1
    if code is None:
        if pos < len(args) and args[pos].text != "-":
            findings.uncertain = True  # runs a script file
            return None
        code = stdin.text
    if code is None or re.search(WRITE_HINTS, code):
        findings.uncertain = True
    if code:
        findings.mention_text(code, cwd)
    return None


def shell_command(args: list[Word], stdin: Stdin, cwd: str, findings: Findings, depth: int) -> None:
    """``bash -c SCRIPT`` (or ``-lc``, ``-ec``...) and ``bash <<EOF`` are read recursively."""
    for index, word in enumerate(args):
        text = word.text
        if not text.startswith("-") or text in ("-", "--"):
            findings.uncertain = True  # ``bash script.sh``: a file we cannot read
            return
        if not text.startswith("--") and "c" in text[1:] and index + 1 < len(args):
            if args[index + 1].expands:
                findings.uncertain = True
            findings.recurse(args[index + 1].text, cwd, findings, depth + 1)
            return
    if stdin.text is not None:
        findings.recurse(stdin.text, cwd, findings, depth + 1)
    else:
        findings.uncertain = True  # commands piped in


def patch_command(name: str, args: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    """``patch -p1 < FILE``, ``patch FILE PATCHFILE``, ``apply_patch <<EOF``: the patch's own
    paths when its text is inline, else the patch file is only mentioned."""
    if name != "patch":
        text = args[0].text if args else stdin.text
        record_patch(text, None, cwd, findings)
        return
    found, options = operands(args, "pioDdrBFgVYzx", ("input", "output", "directory", "strip"))
    if "dry-run" in options:
        return
    directory = options.get("d") or options.get("directory") or ""
    for key in ("o", "output"):
        if options.get(key) and options[key] != "-":
            findings.write(options[key], cwd)
    if found:
        findings.write(found[0], join_path(cwd, directory))
    patch_file = options.get("i") or options.get("input") or (found[1].text if found[1:] else "")
    record_patch(None if patch_file else stdin.text, patch_file or stdin.file, cwd, findings)
