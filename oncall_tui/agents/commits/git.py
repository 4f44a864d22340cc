"""Reading commits out of a checkout with ``git`` (standard library only: the hook imports it).

Every call has a short timeout and runs without the caller's ``GIT_*`` variables: a hook runs
inside the agent's environment, where ``GIT_DIR`` or ``GIT_INDEX_FILE`` may point anywhere, and
the repository asked about must be the one named by ``cwd``. Only metadata is read: the subject
line, the parents, the author date, the changed paths and the trailers, never the message body.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

GIT_TIMEOUT_S = 2.0
RECORD_START = "\x1e"
FILES_START = "\x1f"
"""Where a commit, and then its list of changed files, begin in ``git log`` output (control
characters that subjects and trailers do not hold)."""
SHOW_FORMAT = "%H%x00%P%x00%aI%x00%s%x00%(trailers:only,unfold)"
"""Sha, parents, author date (strict ISO), subject, and the trailers alone, one per line."""


@dataclass(frozen=True)
class GitCommit:
    """One commit as git printed it (before it is tied to a repository or a session)."""

    sha: str
    parents: tuple[str, ...]
    authored_at: datetime
    subject: str
    trailers: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def git_env() -> dict[str, str]:
    """The environment without ``GIT_*`` overrides, never prompting, never taking locks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    return env


def run_git(cwd: str, args: Sequence[str], timeout: float = GIT_TIMEOUT_S) -> str | None:
    """Stdout of ``git -C cwd ARGS``; None when git failed, is missing or took too long."""
    try:
        done = subprocess.run(
            ["git", "-C", cwd, *args],
            capture_output=True,
            env=git_env(),
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def parse_show(text: str) -> GitCommit | None:
    """One commit printed with :data:`SHOW_FORMAT`; None when the text is not that."""
    parts = text.split("\x00")
    if len(parts) < 5:
        return None
    sha, parents, date, subject = (p.strip() for p in parts[:4])
    trailers = "\x00".join(parts[4:])
    try:
        authored_at = datetime.fromisoformat(date)
    except ValueError:
        return None
    if not sha:
        return None
    return GitCommit(
        sha=sha,
        parents=tuple(parents.split()),
        authored_at=authored_at,
        subject=subject,
        trailers=tuple(line.strip() for line in trailers.splitlines() if line.strip()),
    )


def head_commit(cwd: str) -> GitCommit | None:
    """``HEAD`` of the checkout around ``cwd``, with the files it changed."""
    head = run_git(cwd, ["rev-parse", "--verify", "-q", "HEAD"])
    if not head or not head.strip():
        return None
    return commit_at(cwd, head.strip())


def commit_at(cwd: str, sha: str) -> GitCommit | None:
    """The commit ``sha`` of the checkout around ``cwd``, with the files it changed."""
    shown = run_git(cwd, ["show", "-s", f"--format={SHOW_FORMAT}", sha, "--"])
    commit = parse_show(shown) if shown is not None else None
    if commit is None:
        return None
    changed = run_git(
        cwd, ["diff-tree", "--root", "--no-commit-id", "--name-only", "-r", commit.sha]
    )
    files = tuple(line for line in (changed or "").splitlines() if line)
    return replace(commit, files=files)


def log_commits(cwd: str, since: datetime, until: datetime) -> list[GitCommit]:
    """The commits of all local refs committed between ``since`` and ``until``, newest first."""
    out = run_git(
        cwd,
        [
            "log",
            "--all",
            f"--since={since.isoformat()}",
            f"--until={until.isoformat()}",
            f"--format=%x1e{SHOW_FORMAT}%x1f",
            "--name-only",
        ],
        timeout=GIT_TIMEOUT_S * 5,
    )
    return parse_log(out or "")


def parse_log(text: str) -> list[GitCommit]:
    """Output of :func:`log_commits`: per commit, its fields, then the files it changed."""
    found: list[GitCommit] = []
    for record in text.split(RECORD_START):
        fields, _, names = record.partition(FILES_START)
        commit = parse_show(fields) if fields.strip() else None
        if commit is not None:
            files = tuple(line for line in names.splitlines() if line)
            found.append(replace(commit, files=files))
    return found


def rev_list(cwd: str, head: str, base: str | None, limit: int) -> list[str] | None:
    """Shas reachable from ``head`` and not from ``base`` (all ancestors when None), newest
    first, at most ``limit``; None when git cannot tell (unknown sha, not a repository)."""
    spec = f"{base}..{head}" if base else head
    out = run_git(cwd, ["rev-list", f"--max-count={limit}", spec, "--"], timeout=GIT_TIMEOUT_S * 5)
    if out is None:
        return None
    return [line.strip() for line in out.splitlines() if line.strip()]
