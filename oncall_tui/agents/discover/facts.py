"""What a transcript tells about its session, and the line-level helpers both parsers share."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from oncall_tui.core.agents import MAX_SESSION_PATHS
from oncall_tui.core.clock import from_iso

MAX_COMMIT_CALLS = 20
"""Committing calls kept per transcript (the newest): each costs one ``git log`` later."""


@dataclass(frozen=True)
class CommitCall:
    """When a session ran a committing git command, and in which directory: never the command."""

    at: datetime
    where: str


@dataclass
class TranscriptFacts:
    """Metadata of one session, as read from its transcript. Never any message text."""

    session_id: str | None = None
    cwd: str | None = None
    branch: str | None = None
    repository_url: str | None = None
    """The remote the agent recorded (Codex), for when the checkout is not on this machine."""
    last_activity: datetime | None = None
    """The newest timestamp of any line."""
    paths: dict[str, None] = field(default_factory=dict)
    """Files named by tool uses, as the agent wrote them, most recent last."""
    commit_calls: list[CommitCall] = field(default_factory=list)
    """Shell tool calls whose command commits (``git commit``, merge...), oldest first, capped."""
    lines: int = 0
    skipped: int = 0
    """Lines that could not be parsed (a line cut by a concurrent write, garbage)."""

    def saw_time(self, value: object) -> None:
        when = parse_time(value)
        if when is not None and (self.last_activity is None or when > self.last_activity):
            self.last_activity = when

    def touched(self, paths: list[str]) -> None:
        for path in paths:
            self.paths.pop(path, None)  # seen again: it moves to the most recent end
            self.paths[path] = None
        while len(self.paths) > MAX_SESSION_PATHS:
            del self.paths[next(iter(self.paths))]

    def committed(self, at: object, where: str | None) -> None:
        """A shell call at ``at`` ran a committing git command in ``where`` (a directory)."""
        when = parse_time(at)
        if when is None or not where:
            return
        self.commit_calls.append(CommitCall(when, where))
        del self.commit_calls[:-MAX_COMMIT_CALLS]

    @property
    def path_list(self) -> list[str]:
        return list(self.paths)


def json_object(line: str) -> dict[str, Any] | None:
    """The JSON object on one line; None for a blank line, anything else, or garbage."""
    text = line.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def json_records(lines: Iterable[str], facts: TranscriptFacts) -> Iterator[dict[str, Any]]:
    """The JSON objects of a transcript's lines, counting lines read and lines skipped."""
    for line in lines:
        if not line.strip():
            continue
        facts.lines += 1
        record = json_object(line)
        if record is None:
            facts.skipped += 1
            continue
        yield record


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time as the agents write them (``2026-12-02T06:10:50.123Z``), in UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = from_iso(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def text_field(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None
