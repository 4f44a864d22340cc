"""Making a directory match a plan of files, and the report of what that took.

A plan lists, for every file the exporter owns, the bytes it should hold or that it should not
exist. Comparing first and writing only what differs is what makes a sync without state change
write nothing, and what lets ``export --check`` say exactly which files drifted.
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncall_tui.agents.export.atomic import Planned, is_temp_name, remove_file, write_atomic


@dataclass(frozen=True)
class Failure:
    """A file left as it was (or never written), and why."""

    file: str
    problems: list[str]
    session_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "problems": self.problems, "session_id": self.session_id}


@dataclass
class ExportReport:
    """What one sync did or, with ``check_only``, what differs from what the DB says."""

    root: Path
    check_only: bool = False
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)
    extra: list[Path] = field(default_factory=list)
    delivered: dict[str, list[str]] = field(default_factory=dict)
    """Push ids newly recorded as delivered through the file, by session."""

    @property
    def differing(self) -> list[Path]:
        return sorted(self.missing + self.stale + self.extra)

    def as_json(self) -> dict[str, Any]:
        lists = ("written", "unchanged", "removed", "missing", "stale", "extra")
        data: dict[str, Any] = {name: [str(p) for p in getattr(self, name)] for name in lists}
        data.update(
            root=str(self.root),
            check_only=self.check_only,
            failed=[f.as_json() for f in self.failed],
            delivered=self.delivered,
        )
        return data


def folder_extras(
    base: Path, live: set[str], keep: set[str], only: set[str] | None, own: set[str]
) -> list[Planned]:
    """Files under ``base`` (one folder per session) the DB does not account for.

    Everything in the folder of a session not in ``live`` (ended), and anything but the ``own``
    files in the folder of a live one. Folders in ``keep`` (whose new documents failed) or
    outside ``only`` are left as they are; symlinks are removed as links, never followed.
    Temp files are left to :func:`~oncall_tui.agents.export.atomic.stray_temp_files`.
    """
    if not base.is_dir():
        return []
    extra: list[Planned] = []
    for entry in sorted(base.iterdir()):
        if entry.name in keep or (only is not None and entry.name not in only):
            continue
        if entry.is_symlink() or not entry.is_dir():
            extra += [] if entry.name in live else [Planned(entry, None)]
            continue
        mine = own if entry.name in live else set()
        for current, dirs, files in os.walk(entry):
            links = [d for d in dirs if Path(current, d).is_symlink()]
            for name in sorted(files + links):
                if is_temp_name(name):
                    continue  # a stray, removed with the others
                if not (Path(current) == entry and name in mine):
                    extra.append(Planned(Path(current, name), None))
    return extra


def compare(planned: list[Planned], report: ExportReport) -> None:
    """What :func:`apply` would change, without changing anything (``export --check``)."""
    for item in planned:
        current = _read(item.path)
        if item.data is None:
            if current is not None or item.path.is_symlink():
                report.extra.append(item.path)
        elif current is None:
            report.missing.append(item.path)
        elif current != item.data:
            report.stale.append(item.path)


def apply(planned: list[Planned], report: ExportReport) -> None:
    """Write what differs, remove what should not exist, leave identical files untouched.

    Identical bytes are never rewritten: agents and editors watching the files see no churn.
    A file that cannot be written is reported and the others still go ahead.
    """
    for item in planned:
        try:
            if item.data is None:
                if remove_file(item.path):
                    report.removed.append(item.path)
            elif _read(item.path) == item.data:
                report.unchanged.append(item.path)
            else:
                # Private files get private folders; repo files get ordinary ones.
                folder_mode = 0o700 if item.mode & 0o077 == 0 else 0o755
                item.path.parent.mkdir(mode=folder_mode, parents=True, exist_ok=True)
                write_atomic(item.path, item.data, item.mode)
                report.written.append(item.path)
        except OSError as exc:
            report.failed.append(Failure(str(item.path), [str(exc.strerror or exc)]))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def remove_empty_folders(base: Path, live: set[str]) -> None:
    """Folders of sessions that are gone, once emptied (deepest first)."""
    if not base.is_dir():
        return
    for entry in base.iterdir():
        if entry.name in live or entry.is_symlink() or not entry.is_dir():
            continue
        for current, _, _ in sorted(os.walk(entry), key=lambda walk: -len(walk[0])):
            with suppress(OSError):  # not empty: a file we could not remove
                Path(current).rmdir()
