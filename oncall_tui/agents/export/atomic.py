"""Crash-safe file replacement, and the path checks every exported file goes through.

Agents read context files at any moment, possibly while the exporter is killed mid-write, so a
reader must only ever see the complete old file or the complete new one. The recipe (temp file
in the same directory, fsync, rename, fsync the directory) is the one in
performance-and-safety.md §7: without the fsyncs, a crash after the rename can still leave an
empty or partial file on some file systems.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEMP_SUFFIX = ".tmp"
"""Temp files are ``.<name>.<random>.tmp``: hidden, and never matching a reader's ``*.md``."""


@dataclass(frozen=True)
class Planned:
    """The state one file should be in: these bytes, or (``data is None``) absent."""

    path: Path
    data: bytes | None
    mode: int = 0o600


class UnsafePathError(ValueError):
    """A target resolved outside the directory it must stay in (traversal or a symlink)."""


def contained(root: Path, *parts: str) -> Path:
    """``root / parts``, refused unless it resolves inside ``root``.

    Names come from agents (session ids, working directories), so even validated names are
    checked again here, after symlinks are resolved: a symlinked session folder must not let
    the exporter write elsewhere.
    """
    if any(part in ("", ".", "..") or "/" in part or "\0" in part for part in parts):
        raise UnsafePathError(f"unsafe path component in {list(parts)!r}")
    base = root.resolve()
    target = base.joinpath(*parts)
    resolved = target.resolve()
    if not resolved.is_relative_to(base):
        raise UnsafePathError(f"{target} resolves to {resolved}, outside {base}")
    return target


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (POSIX needs the directory fsynced)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a mix.

    The temp file lives in the target's directory (a rename across file systems is a copy, not
    atomic) and is removed on any failure, so a failed write leaves the old file untouched.
    """
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(directory)


def remove_file(path: Path) -> bool:
    """Delete ``path`` durably; ``False`` if it was already gone."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def stray_temp_files(directory: Path, *, recursive: bool) -> Iterator[Path]:
    """Temp files a killed writer left behind (only safe to delete while holding the lock).

    The walk does not follow symlinks, so a link planted in the tree cannot lead it elsewhere.
    """
    for current, dirs, files in os.walk(directory):
        yield from (Path(current, name) for name in sorted(files) if is_temp_name(name))
        if not recursive:
            dirs.clear()
