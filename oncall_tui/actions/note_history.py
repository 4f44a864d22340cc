"""What the git history says about a note: commits after it that touched its paths.

Run with a short timeout and without the caller's ``GIT_*`` variables (a hook runs inside the
agent's environment, where ``GIT_DIR`` may point anywhere): the repository asked about is the
one at ``root``. A git that fails or is missing flags nothing, it never blocks a context.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from oncall_tui.core.agents import Note, changed_by_commit

GIT_TIMEOUT_S = 2.0
MAX_COMMITS = 20
CACHED_ANSWERS = 1024
"""Notes' history answers kept per process: a few per note, each a handful of commits."""


@dataclass(frozen=True)
class LaterCommit:
    sha: str
    committed_at: datetime
    path: str


def run_git(
    root: str,
    args: list[str],
    *,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = GIT_TIMEOUT_S,
) -> str | None:
    """Stdout of ``git -C root ARGS``; None when git failed, is missing or took too long."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    base.update({"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    try:
        done = subprocess.run(
            ["git", "-C", root, *args],
            capture_output=True,
            input=stdin.encode() if stdin is not None else None,
            env={**base, **(env or {})},
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None


def later_commits(root: str, since: datetime, globs: list[str]) -> list[LaterCommit]:
    """Commits of ``HEAD`` committed after ``since`` that touched a file matching ``globs``,
    newest first; each with the first of its files that matched.

    Remembered per state of the checkout's HEAD: the exporter renders every session's context
    at each sync and a hook renders one at each delivery, so git runs again only after a
    commit, a checkout or a reset (each rewrites ``.git/logs/HEAD`` or ``.git/HEAD``)."""
    if not globs:
        return []
    state = _head_state(root)
    if not any(state):  # a worktree or submodule (``.git`` is a file): ask git every time
        return list(_later_commits.__wrapped__(root, since, tuple(globs), state))
    return list(_later_commits(root, since, tuple(globs), state))


def _head_state(root: str) -> tuple[int, ...]:
    """Stamps that change whenever HEAD moves; zeros where they cannot be read."""
    stamps = []
    for name in ("logs/HEAD", "HEAD"):
        try:
            stamps.append(Path(root, ".git", name).stat().st_mtime_ns)
        except OSError:
            stamps.append(0)
    return tuple(stamps)


@lru_cache(maxsize=CACHED_ANSWERS)
def _later_commits(
    root: str, since: datetime, globs: tuple[str, ...], head_state: tuple[int, ...]
) -> tuple[LaterCommit, ...]:
    out = run_git(
        root,
        [
            "log",
            f"--max-count={MAX_COMMITS}",
            f"--since={since.isoformat()}",
            "--format=%x1e%H%x00%cI",
            "--name-only",
            "HEAD",
            "--",
            *(f":(glob){glob}" for glob in globs),
        ],
    )
    found = []
    for record in (out or "").split("\x1e"):
        head, _, names = record.partition("\n")
        sha, _, date = head.partition("\x00")
        files = [line for line in names.splitlines() if line.strip()]
        try:
            committed_at = datetime.fromisoformat(date.strip())
        except ValueError:
            continue
        # --since is inclusive and second-grained: the note's own second is not "after" it.
        if sha and files and committed_at > since:
            found.append(LaterCommit(sha.strip(), committed_at, files[0]))
    return tuple(found)


def missing_globs(root: str, globs: list[str]) -> list[str]:
    """The globs no file of the checkout matches (a plain path: the file is gone)."""
    base = Path(root)
    return [glob for glob in globs if not any(base.glob(glob))]


def commit_reasons(note: Note, root: str | None = None) -> list[str]:
    """Why the history flags ``note`` for review, in the checkout at ``root`` (default: the
    note's own ``repo_root``)."""
    where = root or note.repo_root
    if not where or not note.paths:
        return []
    return [
        changed_by_commit(c.sha, c.committed_at, c.path)
        for c in later_commits(where, note.created_at, note.paths)
    ]
