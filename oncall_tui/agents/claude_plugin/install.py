"""Copy the packaged Claude Code plugin where Claude Code loads it for every session of a user.

Claude Code loads a plugin kept in the user's skills directory without any marketplace
(https://code.claude.com/docs/en/plugins/create, "Develop without a marketplace"), so installing
is a copy of the packaged folder to ``~/.claude/skills/oncall-tui``. The copy is idempotent: a
file already holding the packaged bytes is left alone, a changed one is replaced atomically, and
files the user added to the folder are kept.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

PLUGIN_NAME = "oncall-tui"
"""The manifest's ``name``: also the folder it is installed as."""
PACKAGED = "plugin"


def packaged_plugin() -> Traversable:
    """The plugin folder inside the installed package."""
    return files(__package__) / PACKAGED


def plugin_files() -> dict[str, bytes]:
    """Every file of the packaged plugin: path relative to its root → content."""
    return {relative: entry.read_bytes() for relative, entry in _walk(packaged_plugin(), "")}


def installed_plugin_dir(home: Path) -> Path:
    """Where the plugin goes for the user whose home is ``home``."""
    return home / ".claude" / "skills" / PLUGIN_NAME


def install_plugin(dest_root: Path) -> Path:
    """Install (or bring up to date) the plugin for the user whose home is ``dest_root``;
    returns the plugin's folder."""
    target = installed_plugin_dir(dest_root)
    for relative, content in plugin_files().items():
        path = target / relative
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, content)
    return target


def _walk(folder: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _walk(entry, relative + "/")
        else:
            yield relative, entry


def _replace(path: Path, content: bytes) -> None:
    """Write next to the file, then rename over it: Claude Code never reads half a manifest."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
