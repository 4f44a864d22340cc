"""What a reading of a shell command found: paths written and mentioned (no IO, stdlib only).

Shared by the per-program rules (:mod:`~oncall_tui.agents.hook.shell_commands`,
:mod:`~oncall_tui.agents.hook.shell_git`): the accumulator, GNU-style option parsing and paths
joined onto the directory a ``cd`` moved to.
"""

from __future__ import annotations

import posixpath
import re

from oncall_tui.agents.hook.shell_lexer import Word

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from collections.abc import Callable

    Recurse = Callable[[str, str, "Findings", int], None]

PATH_FRAGMENT = re.compile(r"[\w.~+@%\-/]+")
WHITESPACE = re.compile(r"\s")
FILE_NAME = re.compile(r"[\w.~+@%\-]*\w\.[A-Za-z0-9_]{1,12}")


class Stdin:
    """What a command reads on standard input, when a redirection says so."""

    __slots__ = ("text", "file")

    def __init__(self, text: str | None = None, file: Word | None = None) -> None:
        self.text = text
        self.file = file


class Findings:
    """What the reading found so far, in order, each path once."""

    __slots__ = ("recurse", "uncertain", "_paths", "_mentioned")

    def __init__(self, recurse: Recurse, uncertain: bool = False) -> None:
        self.recurse = recurse
        self.uncertain = uncertain
        self._paths: dict[str, None] = {}
        self._mentioned: dict[str, None] = {}

    @property
    def paths(self) -> list[str]:
        return list(self._paths)

    @property
    def mentioned(self) -> list[str]:
        return list(self._mentioned)

    def write(self, word: Word | str, cwd: str) -> None:
        text = word if isinstance(word, str) else word.text
        if word.expands if isinstance(word, Word) else "$" in text:
            self.uncertain = True  # the shell decides the final name
        if text:
            path = join_path(cwd, text)
            self._paths.setdefault(path, None)
            self._mentioned.setdefault(path, None)

    def mention(self, word: Word, cwd: str) -> None:
        if looks_like_path(word.text):
            self._mentioned.setdefault(join_path(cwd, word.text), None)
        else:
            self.mention_text(word.text, cwd)

    def mention_path(self, text: str, cwd: str) -> None:
        """A word known to be a path though it may not look like one (``cd services``)."""
        if text:
            self._mentioned.setdefault(join_path(cwd, text), None)

    def mention_text(self, text: str, cwd: str) -> None:
        """Every path-like fragment of free text (inline code, a script we do not follow)."""
        for fragment in PATH_FRAGMENT.findall(text):
            if looks_like_path(fragment):
                self._mentioned.setdefault(join_path(cwd, fragment), None)


def looks_like_path(text: str) -> bool:
    if not text or text.startswith("-") or "://" in text or WHITESPACE.search(text):
        return False
    return "/" in text or text in (".", "..") or FILE_NAME.fullmatch(text) is not None


def join_path(cwd: str, path: str) -> str:
    """``path`` as seen from the directory a ``cd`` moved to; absolute and ``~`` paths as is."""
    if not cwd or path.startswith(("/", "~")):
        return path
    return posixpath.normpath(posixpath.join(cwd, path))


def operands(
    args: list[Word], takes_value: str = "", long_takes_value: tuple[str, ...] = ()
) -> tuple[list[Word], dict[str, str]]:
    """GNU-style options and operands: ``-abc`` clusters, ``-tDIR`` or ``-t DIR`` when ``t`` is
    in ``takes_value``, ``--name=value`` or ``--name value`` for ``long_takes_value``, ``--``."""
    found: list[Word] = []
    options: dict[str, str] = {}
    pos = 0
    while pos < len(args):
        text = args[pos].text
        pos += 1
        if text == "--":
            found.extend(args[pos:])
            break
        if text.startswith("--"):
            name, equals, value = text[2:].partition("=")
            if not equals and name in long_takes_value and pos < len(args):
                value, pos = args[pos].text, pos + 1
            options[name] = value
        elif text.startswith("-") and text != "-":
            for index, char in enumerate(text[1:], start=1):
                if char in takes_value:
                    value = text[index + 1 :]
                    if not value and pos < len(args):
                        value, pos = args[pos].text, pos + 1
                    options[char] = value
                    break
                options[char] = ""
        else:
            found.append(args[pos - 1])
    return found, options


def record_patch(
    text: str | None, patch_file: Word | str | None, cwd: str, findings: Findings
) -> None:
    """Write the paths of an inline patch; a patch in a file cannot be read here."""
    if text is not None and not patch_file:
        from oncall_tui.agents.hook.patch_paths import patch_paths  # only commands that patch

        for path in patch_paths(text):
            findings.write(path, cwd)
        return
    findings.uncertain = True
    if patch_file is not None:
        name = patch_file if isinstance(patch_file, str) else patch_file.text
        findings.mention(Word(name), cwd)
