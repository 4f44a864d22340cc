"""Shell command text split into words, operators and redirections (no IO, stdlib only).

:mod:`shlex` splits words by POSIX quoting rules but forgets which characters were quoted, so
``grep '>' f`` and ``grep > f`` come out the same; the edit guard must tell them apart. This
lexer follows the same quoting rules (single quotes, double quotes with their four escapes,
backslashes, ``$'...'``) and keeps operators, redirections with their file descriptor, and
heredoc bodies as their own tokens. What it does not model, command substitution (``$(...)``,
backticks) and process substitution (``<(...)``), it keeps as text inside the word and reports
through ``uncertain``, as it does for an unbalanced quote.
"""

from __future__ import annotations

import re

from oncall_tui.core.frozen import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Final

WORD_BREAKS = frozenset(" \t\r\n;&|()<>")
PLAIN_RUN = re.compile(r"[^ \t\r\n;&|()<>\\'\"$`]+")
"""Characters that stand for themselves in a word, taken in one step."""
OPERATORS = ("&&", "||", ";;", "|&", ";", "&", "|", "(", ")")
REDIRECTIONS = ("<<<", "<<-", "&>>", ">>", ">|", ">&", "<<", "<&", "<>", "&>", ">", "<")
VARIABLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
SPECIAL_PARAMETERS = frozenset("@*#?$!-0123456789")


class Word(Record):
    """One shell word after quote removal; ``expands`` when it holds a ``$`` or backtick the
    shell would expand, so its final text is not known."""

    __slots__ = ("text", "expands", "quoted")

    def __init__(self, text: str, expands: bool = False, quoted: bool = False) -> None:
        self.text: Final = text
        self.expands: Final = expands
        self.quoted: Final = quoted

    def __hash__(self) -> int:
        return hash((self.text, self.expands, self.quoted))


class Operator(Record):
    """A control operator, or ``"\\n"`` for a newline that ends a command."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text: Final = text

    def __hash__(self) -> int:
        return hash(self.text)


class Redirect(Record):
    """``[fd]op target``; for a heredoc the target is its delimiter and ``body`` its text."""

    __slots__ = ("op", "fd", "target", "body")

    def __init__(self, op: str, fd: str, target: Word | None, body: str | None = None) -> None:
        self.op = op
        self.fd = fd
        self.target = target
        self.body = body


Lexeme = Word | Operator | Redirect


class Lexed:
    """The tokens of a text, and whether some of it could not be read with confidence."""

    __slots__ = ("tokens", "uncertain")

    def __init__(self) -> None:
        self.tokens: list[Lexeme] = []
        self.uncertain = False


def tokenize(text: str) -> Lexed:
    """The tokens of ``text``; never raises."""
    return _Lexer(text).run()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out = Lexed()
        self.pending_heredocs: list[tuple[Redirect, bool]] = []

    def run(self) -> Lexed:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r":
                self.pos += 1
            elif text.startswith("\\\n", self.pos):
                self.pos += 2
            elif char == "\n":
                self.pos += 1
                self.out.tokens.append(Operator("\n"))
                self._read_heredoc_bodies()
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char in "<>" or text.startswith("&>", self.pos):
                self._redirect("")
            elif char in ";&|()":
                self._operator()
            else:
                word = self._word()
                if (
                    word.text.isdigit()
                    and not word.quoted
                    and self.pos < len(text)
                    and text[self.pos] in "<>"
                ):
                    self._redirect(word.text)
                else:
                    self.out.tokens.append(word)
        if self.pending_heredocs:
            self.out.uncertain = True
        return self.out

    def _operator(self) -> None:
        for op in OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                self.out.tokens.append(Operator(op))
                return

    def _redirect(self, fd: str) -> None:
        text = self.text
        if text.startswith(("<(", ">("), self.pos):
            # Process substitution: a command of its own that we keep as an opaque word.
            start = self.pos
            self.pos = _matching_paren(text, self.pos + 1)
            self.out.uncertain = True
            self.out.tokens.append(Word(text[start : self.pos], expands=True))
            return
        op = next(op for op in REDIRECTIONS if text.startswith(op, self.pos))
        self.pos += len(op)
        while self.pos < len(text) and text[self.pos] in " \t":
            self.pos += 1
        target = None
        if self.pos < len(text) and text[self.pos] not in WORD_BREAKS:
            target = self._word()
        else:
            self.out.uncertain = True
        redirect = Redirect(op, fd, target)
        self.out.tokens.append(redirect)
        if op in ("<<", "<<-") and target is not None:
            self.pending_heredocs.append((redirect, op == "<<-"))

    def _read_heredoc_bodies(self) -> None:
        """Bodies follow the line that opened them, in order, each up to its delimiter."""
        text = self.text
        for redirect, strip_tabs in self.pending_heredocs:
            delimiter = redirect.target.text if redirect.target else ""
            lines: list[str] = []
            while True:
                if self.pos >= len(text):
                    self.out.uncertain = True  # the shell would warn and take the rest
                    break
                end = text.find("\n", self.pos)
                end = len(text) if end < 0 else end
                line = text[self.pos : end]
                self.pos = min(end + 1, len(text))
                if (line.lstrip("\t") if strip_tabs else line).rstrip("\r") == delimiter:
                    break
                lines.append(line.lstrip("\t") if strip_tabs else line)
            redirect.body = "\n".join(lines) + ("\n" if lines else "")
        self.pending_heredocs.clear()

    def _word(self) -> Word:
        text = self.text
        parts: list[str] = []
        expands = quoted = False
        while self.pos < len(text):
            char = text[self.pos]
            if char in WORD_BREAKS:
                break
            if char == "\\":
                if text.startswith("\\\n", self.pos):
                    self.pos += 2
                    continue
                parts.append(text[self.pos + 1 : self.pos + 2])
                self.pos += 2
                quoted = True
            elif char == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    self.out.uncertain = True
                    end = len(text)
                parts.append(text[self.pos + 1 : end])
                self.pos = end + 1
                quoted = True
            elif char == '"':
                expands = self._double_quoted(parts) or expands
                quoted = True
            elif char == "$" or char == "`":
                parts.append(self._expansion())
                if not parts[-1].startswith("$'"):
                    expands = True
            else:
                run = PLAIN_RUN.match(text, self.pos)
                end = run.end() if run else self.pos + 1
                parts.append(text[self.pos : end])
                self.pos = end
        return Word("".join(parts), expands, quoted)

    def _double_quoted(self, parts: list[str]) -> bool:
        """Consume ``"..."`` into ``parts``; True when it holds an expansion."""
        text = self.text
        self.pos += 1
        expands = False
        while self.pos < len(text) and text[self.pos] != '"':
            char = text[self.pos]
            if char == "\\" and text[self.pos + 1 : self.pos + 2] in ('"', "\\", "$", "`", "\n"):
                if text[self.pos + 1] != "\n":
                    parts.append(text[self.pos + 1])
                self.pos += 2
            elif char in "$`":
                parts.append(self._expansion(in_double_quotes=True))
                expands = True
            else:
                parts.append(char)
                self.pos += 1
        if self.pos >= len(text):
            self.out.uncertain = True
        self.pos += 1
        return expands

    def _expansion(self, *, in_double_quotes: bool = False) -> str:
        """Consume a ``$``-form or backtick and return it as written."""
        text = self.text
        start = self.pos
        nxt = text[self.pos + 1 : self.pos + 2]
        if text[self.pos] == "`":
            end = self._closing_backtick()
            self.out.uncertain = True
            return text[start:end]
        if nxt == "(":
            self.pos = _matching_paren(text, self.pos + 1)
            if not text.startswith("$((", start):
                self.out.uncertain = True  # command substitution runs a command we don't see
            return text[start : self.pos]
        if nxt == "{":
            end = text.find("}", self.pos)
            self.pos = len(text) if end < 0 else end + 1
            return text[start : self.pos]
        if nxt == "'" and not in_double_quotes:
            end = self.pos + 2
            while end < len(text) and text[end] != "'":
                end += 2 if text[end] == "\\" else 1
            self.pos = min(end + 1, len(text))
            return text[start : self.pos]
        self.pos += 1
        if nxt and nxt in SPECIAL_PARAMETERS:
            self.pos += 1
        else:
            while self.pos < len(text) and text[self.pos] in VARIABLE_CHARS:
                self.pos += 1
        return text[start : self.pos]

    def _closing_backtick(self) -> int:
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != "`":
            end += 2 if self.text[end] == "\\" else 1
        self.pos = min(end + 1, len(self.text))
        return self.pos


def _matching_paren(text: str, open_at: int) -> int:
    """Index just past the parenthesis that closes the one at ``open_at``, skipping quotes."""
    depth = 0
    pos = open_at
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char in "'\"":
            end = text.find(char, pos + 1)
            pos = len(text) if end < 0 else end + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return len(text)
