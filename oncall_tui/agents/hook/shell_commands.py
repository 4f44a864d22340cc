"""What one simple command writes, by the rules of the program it runs (no IO, stdlib only).

Each rule reads the program's own options the way its manual describes them (GNU coreutils,
sed, perl, git) and records the operands it would write. A program without a rule may write
anything, so it makes the reading uncertain; only programs known to read alone (``cat``,
``grep``, ``pytest``...) are certain to write nothing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from oncall_tui.agents.hook.shell_findings import (
    Findings,
    Stdin,
    join_path,
    operands,
    record_patch,
)
from oncall_tui.agents.hook.shell_git import git_command
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
INTERPRETERS = re.compile(r"(python|pypy|node|nodejs|ruby|deno|bun|php)[0-9.]*")
WRAPPERS_WITH_ARGUMENTS = {
    "sudo": frozenset(["u", "g", "h", "p", "r", "t", "C", "D", "T", "U"]),
    "doas": frozenset(["u", "C"]),
    "nice": frozenset(["n"]),
    "timeout": frozenset(["k", "s"]),
    "stdbuf": frozenset(["i", "o", "e"]),
    "env": frozenset(["u", "C", "S"]),
}
PLAIN_WRAPPERS = frozenset(["command", "builtin", "exec", "nohup", "time"])
WRITE_HINTS = re.compile(
    r"""open\s*\([^)]*,\s*(mode\s*=\s*)?['"][rbt]*[wax+]"""
    r"""|\.open\s*\(\s*(mode\s*=\s*)?['"][rbt]*[wax+]"""
    r"|write|unlink|remove|rename|rmtree|rmdir|mkdir|touch|truncate|copy|move|chmod|chown"
    r"|shutil|subprocess|system|popen|exec|spawn|fileinput|FileUtils|File\.open|\brm(Sync)?\("
    r"|symlink|child_process|>"
)
"""Words in inline interpreter code that may write a file (or run something that does)."""
AWK_WRITES = re.compile(r">|\||system|getline")
"""awk output redirection, pipes to commands, ``system()`` and command ``getline``."""
SED_WRITE_COMMAND = re.compile(r"(^|[;{}\n]|/[gpIiMme0-9]*)\s*w\s+\S")
"""sed's ``w FILE`` command, or the ``w FILE`` flag of ``s///``, writes from the script."""


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
    rule = RULES.get(name)
    if rule is not None:
        rule(args, cwd, findings)
    elif name in READS_ONLY:
        return
    elif name == "git":
        git_command(args, stdin, cwd, findings)
    elif name in ("patch", "apply_patch", "applypatch"):
        _patch(name, args, stdin, cwd, findings)
    elif name in SHELLS:
        _shell(args, stdin, cwd, findings, depth)
    elif name == "xargs":
        findings.uncertain = True  # the operands arrive on stdin
        rest, _ = _leading_options(args, "IndPLsaE", ())
        analyze_command(rest, Stdin(), cwd, findings, depth)
    elif name == "perl":
        _perl(args, stdin, cwd, findings)
    elif INTERPRETERS.fullmatch(name):
        _interpreter(args, stdin, cwd, findings, depth)
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


def _sed(args: list[Word], cwd: str, findings: Findings) -> None:
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
            if SED_WRITE_COMMAND.search(text):
                findings.uncertain = True  # the ``w FILE`` command writes from the script
        else:
            files.append(word)
    if in_place:
        for file in files:
            findings.write(file, cwd)


def _perl(args: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
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
    elif code is None or WRITE_HINTS.search(code):
        findings.uncertain = True
    if code:
        findings.mention_text(code, cwd)


def _interpreter(args: list[Word], stdin: Stdin, cwd: str, findings: Findings, depth: int) -> None:
    """``python -c CODE``, ``node -e CODE``, ``python -m MODULE ARGS``, ``python SCRIPT``."""
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
                analyze_command([Word(value), *args[pos:]], stdin, cwd, findings, depth)
                return
            code = (code or "") + value + "\n"
        elif flag in ("-W", "-X"):
            pos += 0 if len(text) > 2 else 1
    if code is None:
        if pos < len(args) and args[pos].text != "-":
            findings.uncertain = True  # runs a script file
            return
        code = stdin.text
    if code is None or WRITE_HINTS.search(code):
        findings.uncertain = True
    if code:
        findings.mention_text(code, cwd)


def _shell(args: list[Word], stdin: Stdin, cwd: str, findings: Findings, depth: int) -> None:
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


def _patch(name: str, args: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
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


def _awk(args: list[Word], cwd: str, findings: Findings) -> None:
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
    elif AWK_WRITES.search(program):
        findings.uncertain = True


def _ruff(args: list[Word], cwd: str, findings: Findings) -> None:
    """``ruff format`` and ``ruff check --fix`` rewrite their operands; ``ruff check`` reads."""
    found, options = operands(args, "", ("config", "select", "ignore", "extend-select"))
    if not found:
        return
    command, paths = found[0].text, found[1:]
    if command == "format" or (command == "check" and "fix" in options):
        for path in paths or [Word(".")]:
            findings.write(path, cwd)


Rule = Callable[[list[Word], str, Findings], None]
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
    "sed": _sed,
    "gsed": _sed,
    "find": _find,
    "sort": _sort,
    "uniq": _uniq,
    "curl": _curl,
    "wget": _wget,
    "black": _all_operands("lt", ("line-length", "target-version", "config")),
    "isort": _all_operands(),
    "awk": _awk,
    "gawk": _awk,
    "ruff": _ruff,
}
