"""Which files would a shell command write? A conservative reading, with no IO.

The edit guard sees Edit and Write tool calls; this module lets it see shell commands too, so a
``sed -i`` cannot walk around it. A command is split into simple commands on ``;``, ``&&``,
``||``, ``|``, ``&`` and newlines (:mod:`~oncall_tui.agents.hook.shell_lexer`); each one's output
redirections are writes, and its words are read by the rules for the command it runs
(:mod:`~oncall_tui.agents.hook.shell_commands`). ``cd DIR`` joins DIR onto the relative paths of
the commands after it, up to the end of its subshell.

The answer is conservative. Whatever cannot be read with confidence (an unknown program, a
command substitution, a variable in a target, a patch kept in a file) sets ``uncertain``, and
``mentioned`` then lists every word that looks like a path so the caller can ask whenever one of
them is affected. Paths are returned as written, globs and ``~`` included, and are not resolved.
"""

from __future__ import annotations

from oncall_tui.agents.hook.shell_commands import analyze_command
from oncall_tui.agents.hook.shell_findings import Findings, Stdin, join_path
from oncall_tui.agents.hook.shell_lexer import Operator, Redirect, Word, tokenize
from oncall_tui.core.frozen import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Final

    from oncall_tui.agents.hook.shell_lexer import Lexeme

MAX_DEPTH = 8
"""Nested ``bash -c`` levels followed before giving up as uncertain."""
OUTPUT_REDIRECTIONS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
NOT_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"})
# fmt: off
KEYWORDS = frozenset({
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
})
# fmt: on
"""Reserved words before a command; skipped so the command after them is read."""


class ShellWrites(Record):
    """What a shell command would write.

    ``paths``: files and directories it would write, create, delete or move, as written
    (relative ones joined onto a preceding ``cd``). ``uncertain``: the command could not be read
    with confidence, so ``paths`` may be incomplete. ``mentioned``: every word that looks like a
    path, for the caller to check when ``uncertain``.
    """

    __slots__ = ("paths", "uncertain", "mentioned")

    def __init__(self, paths: tuple[str, ...], uncertain: bool, mentioned: tuple[str, ...]) -> None:
        self.paths: Final = paths
        self.uncertain: Final = uncertain
        self.mentioned: Final = mentioned

    def __hash__(self) -> int:
        return hash((self.paths, self.uncertain, self.mentioned))


def shell_write_targets(command: str) -> ShellWrites:
    """The files ``command`` would write; never raises."""
    findings = Findings(recurse=_walk_script)
    try:
        _walk_script(command, "", findings, 0)
    except Exception:  # a reading we did not foresee must not break the agent's hook
        findings.uncertain = True
        findings.mention_text(command, "")
    return ShellWrites(tuple(findings.paths), findings.uncertain, tuple(findings.mentioned))


def _walk_script(script: str, cwd: str, findings: Findings, depth: int) -> None:
    if depth > MAX_DEPTH:
        findings.uncertain = True
        findings.mention_text(script, cwd)
        return
    lexed = tokenize(script)
    findings.uncertain = findings.uncertain or lexed.uncertain
    lexemes = lexed.tokens
    pos = 0
    while pos < len(lexemes):
        pos = _walk_list(lexemes, pos, cwd, findings, depth)
        if pos < len(lexemes):  # stopped at a ``)`` that opens nothing
            findings.uncertain = True


def _walk_list(lexemes: list[Lexeme], pos: int, cwd: str, findings: Findings, depth: int) -> int:
    """Walk commands from ``pos`` to the ``)`` that ends this subshell (or the end); return the
    position after it. ``cwd`` changes made by ``cd`` stay inside."""
    words: list[Word] = []
    redirects: list[Redirect] = []
    while pos < len(lexemes):
        lexeme = lexemes[pos]
        pos += 1
        if isinstance(lexeme, Word):
            words.append(lexeme)
        elif isinstance(lexeme, Redirect):
            redirects.append(lexeme)
        elif lexeme.text == "(":
            if words:  # ``name() {...}`` defines a function: its body runs who knows when
                findings.uncertain = True
                if pos < len(lexemes) and lexemes[pos] == Operator(")"):
                    pos += 1
                words = []
                continue
            pos = _walk_list(lexemes, pos, cwd, findings, depth)
        elif lexeme.text == ")":
            _finish(words, redirects, cwd, findings, depth)
            return pos
        else:
            cwd = _finish(words, redirects, cwd, findings, depth)
            words, redirects = [], []
    _finish(words, redirects, cwd, findings, depth)
    return pos


def _finish(
    words: list[Word], redirects: list[Redirect], cwd: str, findings: Findings, depth: int
) -> str:
    """Record one simple command's writes; return the working directory after it."""
    stdin = Stdin()
    for redirect in redirects:
        _redirect(redirect, cwd, findings, stdin)
    for word in words:
        findings.mention(word, cwd)
    while words and not words[0].quoted and words[0].text in KEYWORDS:
        words = words[1:]
    if not words:
        return cwd
    first = words[0].text
    if not words[0].quoted and first in ("for", "select", "case", "function"):
        # ``for x in ...`` lists values, not a command; the others we do not model.
        findings.uncertain = findings.uncertain or first != "for"
        return cwd
    while words and _is_assignment(words[0]):
        words = words[1:]
    if not words:
        return cwd
    if words[0].text in ("cd", "pushd", "popd"):
        return _change_directory(words, cwd, findings)
    analyze_command(words, stdin, cwd, findings, depth)
    return cwd


def _redirect(redirect: Redirect, cwd: str, findings: Findings, stdin: Stdin) -> None:
    target = redirect.target
    if redirect.op in ("<<", "<<-"):
        stdin.text = redirect.body
        return
    if target is None:
        return
    if redirect.op == "<<<":
        stdin.text = target.text + "\n"
        return
    findings.mention(target, cwd)
    if redirect.op == "<":
        stdin.file = target
        return
    if redirect.op in (">&", "<&"):
        # ``2>&1``, ``>&2``, ``>&-`` duplicate descriptors; ``>&file`` writes a file.
        if redirect.op == "<&" or target.text.isdigit() or target.text == "-":
            return
    elif redirect.op not in OUTPUT_REDIRECTIONS:
        return
    if target.text in NOT_FILES or target.text.startswith("/dev/fd/"):
        return
    findings.write(target, cwd)


def _change_directory(words: list[Word], cwd: str, findings: Findings) -> str:
    operands = [w for w in words[1:] if not w.text.startswith("-") or w.text == "-"]
    if words[0].text == "popd" or not operands or operands[0].text == "-":
        findings.uncertain = True  # back to a directory we cannot see
        return cwd if operands or words[0].text == "popd" else "~"
    target = operands[0]
    findings.mention_path(target.text, cwd)
    if target.expands:
        findings.uncertain = True
    return join_path(cwd, target.text)


def _is_assignment(word: Word) -> bool:
    name, equals, _ = word.text.partition("=")
    return bool(equals) and name.rstrip("+").isidentifier() and not name.startswith("-")
