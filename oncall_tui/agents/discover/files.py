"""Finding the transcripts written lately, and reading them bounded.

Transcripts grow to gigabytes over a long session, so none is read whole: the last
``TAIL_BYTES`` hold the newest activity, and Codex's header is the first line, read on its own
(at most ``HEAD_BYTES``). Only files modified within the activity window are opened at all, and
at most ``MAX_FILES`` of them per scan, the newest first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

TAIL_BYTES = 4 * 1024 * 1024
HEAD_BYTES = 1024 * 1024
MAX_FILES = 200


@dataclass(frozen=True)
class Transcript:
    path: Path
    modified: float
    """Modification time, seconds since the epoch."""


def claude_transcripts(root: Path, since: datetime) -> list[Transcript]:
    """``<root>/<project>/<session>.jsonl`` modified since ``since`` (subagent folders aside:
    their lines name the parent session, whose own file is read)."""
    return _newest(_modified_since(root.glob("*/*.jsonl"), since))


def codex_rollouts(root: Path, since: datetime, now: datetime) -> list[Transcript]:
    """``<root>/YYYY/MM/DD/rollout-*.jsonl`` modified since ``since``.

    Only the day folders the window covers are listed, a day either side since Codex names
    them in local time, so years of history cost nothing.
    """
    day, last = (since - timedelta(days=1)).date(), (now + timedelta(days=1)).date()
    candidates: list[Path] = []
    while day <= last:
        folder = root / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        candidates += folder.glob("rollout-*.jsonl")
        day += timedelta(days=1)
    return _newest(_modified_since(candidates, since))


def read_lines(
    path: Path,
    *,
    with_first: bool,
    tail_bytes: int = TAIL_BYTES,
    head_bytes: int = HEAD_BYTES,
) -> list[str]:
    """The lines of the file's last ``tail_bytes`` (a line cut by the window is dropped), and
    the first line too when ``with_first``. Raises OSError when it cannot be read."""
    with path.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        first = stream.readline(head_bytes) if with_first else b""
        start = max(size - tail_bytes, len(first))
        # One byte before the window says whether it starts on a line of its own.
        stream.seek(max(start - 1, 0))
        tail = stream.read(tail_bytes + (1 if start > 0 else 0))
    if start > 0:
        boundary = tail.find(b"\n")
        tail = tail[boundary + 1 :] if boundary >= 0 else b""
    # A first line without its end is longer than head_bytes (or unfinished): not a line.
    first = first[:-1] if first.endswith(b"\n") else b""
    return [raw.decode("utf-8", "replace") for raw in [first, *tail.split(b"\n")] if raw.strip()]


def _modified_since(paths: Iterator[Path] | list[Path], since: datetime) -> Iterator[Transcript]:
    cutoff = since.timestamp()
    for path in paths:
        try:
            modified = path.stat().st_mtime
        except OSError:
            continue  # removed while we looked
        if modified >= cutoff and path.is_file():
            yield Transcript(path, modified)


def _newest(found: Iterator[Transcript]) -> list[Transcript]:
    return sorted(found, key=lambda t: t.modified, reverse=True)[:MAX_FILES]
