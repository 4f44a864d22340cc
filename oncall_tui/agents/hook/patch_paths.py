"""Which files a patch touches, read from its text alone (no IO, stdlib only).

Two shapes reach the edit guard. Codex's ``apply_patch`` envelope names each file on a header
line (``*** Update File: P``, ``*** Add File: P``, ``*** Delete File: P``, and ``*** Move to: P``
for the new name of an updated file). Codex parses leniently: markers may carry surrounding
whitespace and the envelope may arrive wrapped in a shell heredoc, so header lines are matched
after stripping. A unified diff (``git diff``, ``diff -u``) names them on ``diff --git a/P b/P``,
``--- a/P`` and ``+++ b/P`` lines; ``/dev/null`` stands for "no file" on the side of an added or
deleted file and is skipped, and git's ``a/`` and ``b/`` prefixes are removed so both shapes
answer with paths relative to the directory the patch applies in.

Lines inside the body of a hunk never count: an added line that reads ``+++ b/x`` is content.
"""

from __future__ import annotations

ENVELOPE_HEADERS = ("*** Update File:", "*** Add File:", "*** Delete File:", "*** Move to:")
"""Codex envelope lines that name a file; the path follows the colon."""
NO_FILE = "/dev/null"


def patch_paths(patch: str) -> list[str]:
    """Every path the patch names, in order of first appearance, each once."""
    found: dict[str, None] = {}
    old_left = new_left = 0
    for line in patch.splitlines():
        if old_left > 0 or new_left > 0:
            # Inside a counted unified hunk: content, even when it looks like a header.
            marker = line[:1]
            if marker in (" ", ""):
                old_left, new_left = old_left - 1, new_left - 1
                continue
            if marker == "-":
                old_left -= 1
                continue
            if marker == "+":
                new_left -= 1
                continue
            if marker == "\\":
                continue
            old_left = new_left = 0
        path = _envelope_path(line.strip()) or _diff_path(line)
        if path:
            found.setdefault(path, None)
        elif line.startswith("@@ -"):
            old_left, new_left = _hunk_lengths(line)
    return list(found)


def _envelope_path(stripped: str) -> str | None:
    for header in ENVELOPE_HEADERS:
        if stripped.startswith(header):
            return stripped[len(header) :].strip() or None
    return None


def _diff_path(line: str) -> str | None:
    """The path on a unified diff header line; git's ``a/``/``b/`` prefix removed."""
    if line.startswith("--- ") or line.startswith("+++ "):
        # A tab separates the name from an optional timestamp (diff -u).
        name = _unquote(line[4:].split("\t", 1)[0].rstrip())
        if name == NO_FILE or not name:
            return None
        return _strip_prefix(name, "a/" if line.startswith("-") else "b/")
    if line.startswith("diff --git "):
        rest = line[len("diff --git ") :]
        first = _unquote(rest.split(" b/", 1)[0]) if " b/" in rest else _unquote(rest.split(" ")[0])
        return _strip_prefix(first, "a/") or None
    return None


def _strip_prefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else name


def _unquote(name: str) -> str:
    """Git quotes names with unusual characters in C style: ``"a/sp\\"ace"``."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        inner = name[1:-1]
        return inner.replace('\\"', '"').replace("\\t", "\t").replace("\\\\", "\\")
    return name


def _hunk_lengths(header: str) -> tuple[int, int]:
    """Old and new line counts of a unified hunk (``@@ -1,3 +1,4 @@``), so its body is skipped
    as a whole; a header we cannot read counts as empty and nothing is skipped."""
    try:
        old, new = header.split("@@")[1].split()[:2]
        return _range_length(old), _range_length(new)
    except (IndexError, ValueError):
        return 0, 0


def _range_length(side: str) -> int:
    _, _, count = side[1:].partition(",")
    return int(count) if count else 1
