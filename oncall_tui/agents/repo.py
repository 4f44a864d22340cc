"""Where an agent works: repository root, branch and identifier, asked of git; touched files.

Hooks run on every prompt and edit of an agent, so everything here is standard library only and
every git call has a short timeout: a slow or broken git must cost the agent a few hundred
milliseconds at worst, never a hang.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oncall_tui.core.urls import without_userinfo

GIT_TIMEOUT_S = 0.5
_GIT_ENV = {
    **os.environ,
    "GIT_OPTIONAL_LOCKS": "0",  # never take the index lock an agent's own git may need
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?[^/:]+:(?!//)(?P<path>.+)$")
_URL = re.compile(r"^(?:https?|ssh|git(?:\+ssh)?)://[^/]+/(?P<path>.+)$", re.IGNORECASE)
_HEADS = "refs/heads/"
TOOL_PATH_KEYS = ("file_path", "path", "notebook_path")
"""Keys of Claude Code's ``tool_input`` that name a file (Edit, Write, Read, NotebookEdit...)."""


@dataclass(frozen=True)
class RepoInfo:
    """The checkout a session works in, as git sees it."""

    root: Path | None
    """The working tree's top level (symlinks resolved, as git reports it); None outside git."""
    branch: str | None
    """None on a detached HEAD: a commit id says nothing about the work in progress."""


def repo_info(cwd: str) -> RepoInfo:
    """Root and branch of the checkout around ``cwd``, in one git call (two on an unborn branch)."""
    done = _git(cwd, "rev-parse", "--show-toplevel", "--symbolic-full-name", "HEAD")
    lines = done[1].splitlines() if done is not None else []
    if done is None or not lines or not os.path.isabs(lines[0]):
        return RepoInfo(None, None)
    root = Path(lines[0])
    if done[0] == 0:
        ref = lines[1] if len(lines) > 1 else ""
        return RepoInfo(root, ref.removeprefix(_HEADS) if ref.startswith(_HEADS) else None)
    # A branch with no commit yet: rev-parse cannot name HEAD, symbolic-ref can.
    unborn = _git(cwd, "symbolic-ref", "--short", "-q", "HEAD")
    branch = unborn[1] if unborn is not None and unborn[0] == 0 else ""
    return RepoInfo(root, branch or None)


def repo_slug(root: Path) -> str:
    """``owner/name`` from the origin remote, else the root directory's name."""
    done = _git(str(root), "config", "--get", "remote.origin.url")
    url = done[1] if done is not None and done[0] == 0 else ""
    return (slug_from_url(url) if url else None) or root.name


def slug_from_url(url: str) -> str | None:
    """``owner/name`` of an https or ssh remote URL; None for local paths and file URLs.

    Only the last two path segments are kept, and the userinfo is stripped first, so credentials
    embedded in a remote URL (``https://user:token@host/...``) can never reach the journal.
    """
    text = without_userinfo(url.strip())
    match = _URL.match(text) or (None if "://" in text else _SCP_LIKE.match(text))
    if match is None:
        return None
    segments = [
        s for s in match.group("path").removesuffix("/").removesuffix(".git").split("/") if s
    ]
    return "/".join(segments[-2:]) if len(segments) >= 2 else None


def tool_paths(tool_input: Mapping[str, Any]) -> list[str]:
    """Every file a tool call names, in order, without duplicates (``edits[]`` included)."""
    found: list[str] = []
    items: list[Mapping[str, Any]] = [tool_input]
    edits = tool_input.get("edits")
    if isinstance(edits, list):
        items += [e for e in edits if isinstance(e, Mapping)]
    for item in items:
        found += [item[k] for k in TOOL_PATH_KEYS if isinstance(item.get(k), str) and item[k]]
    return list(dict.fromkeys(found))


def relative_paths(paths: Iterable[str], root: Path, cwd: str) -> list[str]:
    """``paths`` relative to ``root``; relative ones are taken from ``cwd``, outsiders dropped.

    Directories are resolved, because git reports the real root while an agent may name a file
    through a symlinked directory (``/tmp`` on macOS, a symlinked checkout); the file itself is
    not, so a symlink kept in the repo counts as the repo's file.
    """
    real_root = Path(os.path.realpath(root))
    kept: list[str] = []
    for raw in paths:
        named = Path(cwd, raw)
        absolute = Path(os.path.realpath(named.parent), named.name)
        try:
            relative = absolute.relative_to(real_root)
        except ValueError:
            continue
        if relative.parts:
            kept.append(relative.as_posix())
    return list(dict.fromkeys(kept))


def _git(cwd: str, *args: str) -> tuple[int, str] | None:
    """Exit status and stripped stdout; None when git could not run or took too long."""
    try:
        done = subprocess.run(
            ["git", "-C", cwd, *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=_GIT_ENV,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.returncode, done.stdout.strip()
