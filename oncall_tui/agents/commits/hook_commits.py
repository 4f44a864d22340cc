"""Commits an agent makes, seen by its hook after a shell tool call ran ``git commit``.

The check of the command is cheap and runs on every shell tool call that finished: no ``git``
in the text, no work. A command that commits (``commit``, ``merge``, ``cherry-pick``, ``am``,
``rebase --continue``) sends the hook to its slow path, where the new ``HEAD`` is read and
journaled with the session: by the local hook itself, or, for a remote hook, by the server it
sends the commit to (:func:`read_hook_commit` here, :func:`record_session_commit` there).
``HEAD`` counts only when git has just moved it by a commit (its
reflog names one and was written moments ago): a commit that failed leaves an older ``HEAD``,
which is not this session's work.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from oncall_tui.agents.hook.model import ActionKind, Event, HookInput

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from oncall_tui.agents.commits.git import GitCommit
    from oncall_tui.agents.hook.shell_lexer import Word
    from oncall_tui.core.commits import Commit
    from oncall_tui.store.journal import Store

COMMITTING = frozenset({"commit", "merge", "cherry-pick", "am", "revert", "pull"})
"""Subcommands that make a commit (``rebase`` does too, when it goes on: see below)."""
REFLOG_COMMITS = ("commit", "merge", "cherry-pick", "am", "rebase", "revert", "pull")
"""How the reflog entry of a ``HEAD`` moved by a commit begins (``commit (amend): ...``)."""
FRESH_S = 15.0
"""A reflog written longer ago than this was not written by the tool call that just ended (git
writes it as the commit completes, and the agent runs its PostToolUse hook right after)."""
_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_ENV_PREFIXES = ("env", "command", "sudo", "nice", "time")


def committing_dir(hook: HookInput) -> str | None:
    """The directory of the checkout a finished shell call committed in, or None."""
    if hook.event is not Event.POST_TOOL or hook.action.kind is not ActionKind.SHELL:
        return None
    text = hook.action.text
    if "git" not in text:
        return None
    return commit_command_dir(text, hook.cwd)


def commit_command_dir(text: str, cwd: str) -> str | None:
    """Where the first committing ``git`` command of ``text`` runs (``-C`` followed), or None."""
    from oncall_tui.agents.hook.shell_lexer import Operator, Word, tokenize  # a shell call with git

    argv: list[Word] = []
    for token in [*tokenize(text).tokens, Operator("\n")]:
        if isinstance(token, Word):
            argv.append(token)
            continue
        if isinstance(token, Operator):
            found = _git_commit_dir(argv, cwd)
            if found is not None:
                return found
            argv = []
    return None


def _git_commit_dir(argv: list[Word], cwd: str) -> str | None:
    words = [w.text for w in argv]
    while words and ("=" in words[0] and not words[0].startswith("=") or words[0] in _ENV_PREFIXES):
        words.pop(0)  # VAR=value prefixes and wrappers that run the command after them
    if not words or os.path.basename(words[0]) != "git":
        return None
    pos, where = 1, cwd
    while pos < len(words) and words[pos].startswith("-"):
        option = words[pos]
        if option in _GLOBAL_WITH_VALUE and pos + 1 < len(words):
            if option == "-C":
                where = os.path.join(where, words[pos + 1])
            pos += 2
        else:
            pos += 1
    if pos >= len(words):
        return None
    sub, rest = words[pos], words[pos + 1 :]
    if sub in COMMITTING or (sub == "rebase" and "--continue" in rest):
        return where
    return None


def head_just_committed(checkout: str) -> bool:
    """Whether git moved ``HEAD`` by a commit in the last :data:`FRESH_S` seconds."""
    from oncall_tui.agents.commits.git import run_git

    path = run_git(checkout, ["rev-parse", "--git-path", "logs/HEAD"])
    entry = run_git(checkout, ["reflog", "-1", "--format=%gs", "HEAD"])
    if not path or not entry:
        return False
    log = Path(checkout, path.strip())
    try:
        fresh = time.time() - log.stat().st_mtime <= FRESH_S
    except OSError:
        return False
    return fresh and entry.strip().startswith(REFLOG_COMMITS)


def read_hook_commit(checkout: str) -> GitCommit | None:
    """The commit git has just made in ``checkout`` (its ``HEAD``), or None: read where the
    agent runs, by its local hook or by its remote one (which sends it to the server)."""
    from oncall_tui.agents.commits.git import head_commit

    if not head_just_committed(checkout):
        return None
    return head_commit(checkout)


def checkout_slug(checkout: str) -> str | None:
    """``owner/name`` of the checkout around ``checkout``; None outside one."""
    from oncall_tui.agents.repo import repo_info, repo_slug

    root = repo_info(checkout).root
    return repo_slug(root) if root is not None else None


def record_hook_commit(
    store: Store, hook: HookInput, checkout: str, repo: str | None
) -> Commit | None:
    """Read the new ``HEAD`` in ``checkout`` and journal it as this session's commit.

    ``repo`` is the session's: it names a commit made in the session's own checkout (its cwd);
    one made elsewhere (``git -C other commit``) is named after that checkout.
    """
    found = read_hook_commit(checkout)
    if found is None:
        return None
    if repo is None or Path(checkout) != Path(hook.cwd):
        repo = checkout_slug(checkout) or repo
    if repo is None:
        return None
    return record_session_commit(store, hook, found, repo)


def record_session_commit(
    store: Store, hook: HookInput, found: GitCommit, repo: str
) -> Commit | None:
    """Journal ``found``, read by the session's hook wherever it ran, as this session's commit.

    Recording one sha again (a hook run twice) adds nothing: :func:`record_commits` skips a
    record that tells no more than the journal holds.
    """
    from oncall_tui.agents.commits.record import record_commits, to_commit
    from oncall_tui.agents.commits.trailers import TrailerMatcher
    from oncall_tui.config import DEFAULT_AGENT_TRAILERS
    from oncall_tui.core.commits import CommitSource
    from oncall_tui.store.db import StoreUnavailableError

    trailer = TrailerMatcher.of(DEFAULT_AGENT_TRAILERS).agent_trailer(found.trailers) or ""
    commit = to_commit(
        found,
        repo,
        source=CommitSource.HOOK,
        session_id=hook.session_id,
        agent=hook.agent,
        trailer=trailer,
    )
    try:
        record_commits(store, [commit], actor=f"agent:{hook.session_id}")
    except StoreUnavailableError:
        return None  # the trailer scan (or the next commit's hook) is the second chance
    return commit
