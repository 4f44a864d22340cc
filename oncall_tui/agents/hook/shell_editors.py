"""What ``sed`` and ``awk`` write: their files when edited in place, else nothing unless the
script itself writes (no IO, stdlib only).
"""

from __future__ import annotations

import re

from oncall_tui.agents.hook.shell_findings import Findings, operands
from oncall_tui.agents.hook.shell_lexer import Word

# Pattern strings, compiled by ``re`` on first use (each is needed by one program only).
AWK_WRITES = r">|\||system|getline"
"""awk output redirection, pipes to commands, ``system()`` and command ``getline``."""
SED_WRITE_COMMAND = r"(^|[;{}\n]|/[gpIiMme0-9]*)\s*w\s+\S"
"""sed's ``w FILE`` command, or the ``w FILE`` flag of ``s///``, writes from the script."""


def sed_command(args: list[Word], cwd: str, findings: Findings) -> None:
    """``sed -i[SUFFIX]`` / ``--in-place[=SUFFIX]`` writes its file operands, not its script."""
    in_place = has_script = False
    files: list[Word] = []
    pos = 0
    while pos < len(args):
        word = args[pos]
        text = word.text
        pos += 1
        if text == "--":
            files.extend(args[pos:])
            break
        if text.startswith("--"):
            name = text[2:].partition("=")[0]
            in_place = in_place or name == "in-place"
            if name in ("expression", "file"):
                has_script = True
                pos += 0 if "=" in text else 1
        elif text.startswith("-") and text != "-":
            for index, char in enumerate(text[1:], start=1):
                if char == "i":
                    in_place = True
                    if index == len(text) - 1 and pos < len(args) and args[pos].text == "":
                        pos += 1  # BSD sed: ``-i ''`` names an empty backup suffix
                    break
                if char in "efl":
                    has_script = has_script or char != "l"
                    pos += 0 if index < len(text) - 1 else 1
                    break
        elif not has_script:
            has_script = True
            if re.search(SED_WRITE_COMMAND, text):
                findings.uncertain = True  # the ``w FILE`` command writes from the script
        else:
            files.append(word)
    if in_place:
        for file in files:
            findings.write(file, cwd)


def awk_command(args: list[Word], cwd: str, findings: Findings) -> None:
    """``awk PROGRAM FILES`` reads, unless gawk's ``-i inplace`` rewrites FILES or the program
    prints into a file or runs a command (``print > "f"``, ``system()``)."""
    found, options = operands(args, "Fvfi", ("field-separator", "assign", "file", "include"))
    if "f" in options or "file" in options:
        findings.uncertain = True  # the program is in a file
        program, files = "", found
    else:
        program, files = (found[0].text, found[1:]) if found else ("", [])
    if options.get("i") == "inplace" or options.get("include") == "inplace":
        for file in files:
            findings.write(file, cwd)
    elif re.search(AWK_WRITES, program):
        findings.uncertain = True
