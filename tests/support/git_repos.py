"""Real git repositories for the commit tests: commits with fixed author and committer dates
(``GIT_AUTHOR_DATE``/``GIT_COMMITTER_DATE``), with or without an agent trailer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CLAUDE_TRAILER = "Co-Authored-By: Claude <noreply@anthropic.com>"
"""As Claude Code signs its commits; the trailer form is GitHub's for several authors
(https://docs.github.com/en/pull-requests/committing-changes-to-your-project/creating-and-editing-commits/creating-a-commit-with-multiple-authors)."""


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``cwd`` with none of the caller's ``GIT_*`` settings; its stdout."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", "-C", str(cwd), *args],
        check=True,
        capture_output=True,
        timeout=30,
        env={**base, "GIT_CONFIG_NOSYSTEM": "1", **(env or {})},
    )
    return done.stdout.decode()


def init_repo(root: Path, remote: str = "git@github.com:acme-payments/payments-api.git") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "remote", "add", "origin", remote)
    return root


def commit(
    root: Path, message: str, files: dict[str, str], *, at: str, trailer: str | None = None
) -> str:
    """Write ``files``, commit them authored and committed ``at`` (ISO); the new sha."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "add", *files)
    full = f"{message}\n\n{trailer}\n" if trailer else message
    dates = {"GIT_AUTHOR_DATE": at, "GIT_COMMITTER_DATE": at}
    git(root, "commit", "-q", "-m", full, env=dates)
    return git(root, "rev-parse", "HEAD").strip()
