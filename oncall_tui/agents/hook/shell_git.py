"""What a ``git`` command writes in the work tree (no IO, stdlib only).

``checkout -- PATHS``, ``restore``, ``rm`` and ``mv`` name the files they write. ``apply`` writes
the paths inside its patch, readable only when the patch text is inline (a heredoc). Commands
that move the whole tree to another state (``switch``, ``reset --hard``, ``stash``, ``merge``...)
cannot be reduced to paths and are uncertain; those that leave the work tree alone (``status``,
``diff``, ``log``, ``add``, ``commit``...) write nothing there.
"""

from __future__ import annotations

from oncall_tui.agents.hook.shell_findings import (
    Findings,
    Stdin,
    join_path,
    operands,
    record_patch,
)
from oncall_tui.agents.hook.shell_lexer import Word

# fmt: off
LEAVES_WORK_TREE = frozenset({
    "status", "diff", "log", "show", "blame", "grep", "ls-files", "ls-tree", "rev-parse",
    "rev-list", "branch", "remote", "fetch", "config", "describe", "shortlog", "reflog", "add",
    "commit", "push", "tag", "cat-file", "whatchanged", "help", "version", "show-ref",
    "for-each-ref", "merge-base", "name-rev", "count-objects", "fsck", "gc", "notes", "var",
})
# fmt: on
GLOBAL_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})


def git_command(args: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    """Record what ``git ARGS`` writes, from the directory ``cwd``."""
    pos = 0
    while pos < len(args) and args[pos].text.startswith("-"):
        option = args[pos].text.partition("=")[0]
        has_value = option in GLOBAL_OPTIONS_WITH_VALUE and "=" not in args[pos].text
        value = args[pos + 1].text if has_value and pos + 1 < len(args) else ""
        if option == "-C":
            cwd = join_path(cwd, value)
        elif option in ("--git-dir", "--work-tree"):
            findings.uncertain = True  # the work tree is somewhere else
        pos += 2 if has_value else 1
    if pos >= len(args):
        return
    sub, rest = args[pos].text, args[pos + 1 :]
    if sub in LEAVES_WORK_TREE:
        return
    handler = {
        "checkout": _checkout,
        "restore": _restore,
        "rm": _rm,
        "mv": _mv,
        "apply": _apply,
        "reset": _reset,
        "stash": _stash,
    }.get(sub)
    if handler is None:
        findings.uncertain = True
    else:
        handler(rest, stdin, cwd, findings)


def _checkout(rest: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    """``git checkout [REF] -- PATHS`` writes PATHS. Without ``--`` each operand is a branch or
    a path, which only the repository knows: both are taken as paths, uncertain."""
    texts = [w.text for w in rest]
    if "--" in texts:
        for word in rest[texts.index("--") + 1 :]:
            findings.write(word, cwd)
        return
    found, options = operands(rest, "bB", ("orphan", "conflict"))
    if found or not ({"b", "B", "orphan"} & options.keys()):
        findings.uncertain = True
    for word in found:
        findings.write(word, cwd)


def _restore(rest: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    """``git restore PATHS`` writes PATHS unless only the index is restored (``--staged``)."""
    found, options = operands(rest, "s", ("source", "conflict"))
    staged_only = ("S" in options or "staged" in options) and not (
        "W" in options or "worktree" in options
    )
    if not staged_only:
        for word in found:
            findings.write(word, cwd)


def _rm(rest: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    found, options = operands(rest)
    if not ({"cached", "n", "dry-run"} & options.keys()):
        for word in found:
            findings.write(word, cwd)


def _mv(rest: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    found, _ = operands(rest)
    for word in found:
        findings.write(word, cwd)


def _apply(rest: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    """``git apply PATCH`` or ``git apply <<EOF``; ``--check``/``--stat`` alone only read, and
    ``--cached`` writes the index, not the work tree."""
    found, options = operands(rest, "pC", ("directory", "exclude", "include", "whitespace"))
    reads_only = {"check", "stat", "numstat", "summary"} & options.keys()
    if (reads_only and "apply" not in options) or "cached" in options:
        return
    directory = join_path(cwd, options.get("directory", ""))
    files = [w for w in found if w.text != "-"]
    if files:
        for word in files:
            record_patch(None, word, cwd, findings)
    else:
        record_patch(stdin.text, stdin.file, directory, findings)


def _reset(rest: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    """``git reset`` moves the index only; ``--hard``, ``--merge`` and ``--keep`` rewrite files."""
    if {"--hard", "--merge", "--keep"} & {w.text for w in rest}:
        findings.uncertain = True


def _stash(rest: list[Word], stdin: Stdin, cwd: str, findings: Findings) -> None:
    if not rest or rest[0].text not in ("list", "show"):
        findings.uncertain = True
