"""The repository's memory files, ``.oncall/memory/<service>.md``: rendering and parsing (pure).

One file per service holds its accepted notes, oldest first. Each note is a marker line, a
YAML front matter (values written as JSON strings, which YAML reads as double-quoted scalars,
so any text round-trips) and the note text as the body. The same notes always render to the
same bytes: the check compares files with what export would write.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from oncall_tui.core.agents import Note, NoteKind

MEMORY_DIR = ".oncall/memory"
HEADER = "<!-- oncall-tui memory for {service}: written by `oncall-tui memory export` -->"
MARKER = re.compile(r"^<!-- note (N-[1-9][0-9]{0,8}) -->$")
FIELDS = ("id", "service", "kind", "author", "created", "updated", "rationale", "paths")
MAX_FRONT_MATTER = 20_000


class MemoryFileError(ValueError):
    """A memory file that is not what export writes (named by the caller)."""


@dataclass(frozen=True)
class FileNote:
    """A note as a memory file holds it: what travels with the repository."""

    id: str
    service: str
    kind: NoteKind
    author: str
    created: datetime
    updated: datetime
    rationale: str
    paths: tuple[str, ...]
    text: str

    @property
    def number(self) -> int:
        return int(self.id.removeprefix("N-"))

    @classmethod
    def of(cls, note: Note) -> FileNote:
        return cls(
            id=note.id,
            service=note.service or "",
            kind=note.kind,
            author=note.author,
            created=_utc(note.created_at),
            updated=_utc(note.updated_at),
            rationale=note.rationale,
            paths=tuple(note.paths),
            text=note.text,
        )

    def to_note(self, repo_root: str | None) -> Note:
        """The note a DB learns from the file (accepted: only accepted notes are exported)."""
        return Note(
            id=self.id,
            number=self.number,
            service=self.service,
            kind=self.kind,
            text=self.text,
            rationale=self.rationale,
            author=self.author,
            agent_authored=is_agent(self.author),
            accepted=True,
            paths=list(self.paths),
            repo_root=repo_root,
            created_at=self.created,
            updated_at=self.updated,
        )


def is_agent(author: str) -> bool:
    """Agents write as ``agent:<session>``; engineers as themselves."""
    return author.startswith("agent:")


def file_name(service: str) -> str:
    return f"{service}.md"


def render_file(service: str, notes: list[FileNote]) -> str:
    """The memory file of one service (notes by number, fields in a fixed order)."""
    parts = [HEADER.format(service=service)]
    for note in sorted(notes, key=lambda n: n.number):
        parts += ["", f"<!-- note {note.id} -->", "---", *_front_matter(note), "---", note.text]
    return "\n".join(parts) + "\n"


def _front_matter(note: FileNote) -> list[str]:
    values: dict[str, Any] = {
        "id": note.id,
        "service": note.service,
        "kind": note.kind.value,
        "author": note.author,
        "created": _iso(note.created),
        "updated": _iso(note.updated),
        "rationale": note.rationale,
    }
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    lines.append("paths:" + ("" if note.paths else " []"))
    lines += [f"  - {json.dumps(path, ensure_ascii=False)}" for path in note.paths]
    return lines


def parse_file(text: str) -> list[FileNote]:
    """The notes of a memory file; :class:`MemoryFileError` naming the line that is wrong."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if MARKER.match(line)]
    notes = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        notes.append(_parse_note(lines[start:end], start + 1))
    return notes


def _parse_note(lines: list[str], line_no: int) -> FileNote:
    marker = MARKER.match(lines[0])
    assert marker is not None
    if len(lines) < 2 or lines[1] != "---" or "---" not in lines[2:]:
        raise MemoryFileError(f"line {line_no}: a note starts with a '---' front matter block")
    close = lines.index("---", 2)
    front = "\n".join(lines[2:close])
    if len(front) > MAX_FRONT_MATTER:
        raise MemoryFileError(f"line {line_no}: front matter too long")
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        raise MemoryFileError(f"line {line_no}: front matter is not YAML ({exc})") from None
    if not isinstance(data, dict) or set(data) != set(FIELDS):
        raise MemoryFileError(f"line {line_no}: front matter needs exactly {', '.join(FIELDS)}")
    body = lines[close + 1 :]
    while body and body[-1] == "":
        body.pop()
    try:
        note = FileNote(
            id=_text(data, "id"),
            service=_text(data, "service"),
            kind=NoteKind(_text(data, "kind")),
            author=_text(data, "author"),
            created=_time(data, "created"),
            updated=_time(data, "updated"),
            rationale=_text(data, "rationale"),
            paths=tuple(_paths(data)),
            text="\n".join(body),
        )
    except ValueError as exc:
        raise MemoryFileError(f"line {line_no}: {exc}") from None
    if note.id != marker.group(1):
        raise MemoryFileError(f"line {line_no}: front matter id {note.id} under {marker.group(1)}")
    return note


def _text(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _time(data: dict[str, Any], key: str) -> datetime:
    return _utc(datetime.fromisoformat(_text(data, key)))


def _paths(data: dict[str, Any]) -> list[str]:
    value = data["paths"]
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError("paths must be a list of strings")
    return value


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _iso(when: datetime) -> str:
    return _utc(when).isoformat().replace("+00:00", "Z")


def commit_message(notes: list[FileNote], co_authors: list[str]) -> str:
    """The message of a memory commit: one ``Oncall-Note:`` trailer per note it records, and a
    ``Co-authored-by:`` trailer per agent that proposed one (git's trailer syntax)."""
    ids = [n.id for n in sorted(notes, key=lambda n: n.number)]
    trailers = [f"Oncall-Note: {note_id}" for note_id in ids]
    trailers += [f"Co-authored-by: {who}" for who in dict.fromkeys(co_authors)]
    subject = (
        f"oncall memory: {', '.join(ids)}" if len(ids) <= 5 else f"oncall memory: {len(ids)} notes"
    )
    return subject + "\n\n" + "\n".join(trailers) + "\n"
