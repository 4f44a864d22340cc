"""A hook event as a server decides on it (``POST /sessions/{id}/events``): the normalised event
and the facts of the checkout, never file contents or the command's text; after a shell call
that committed, the commit's metadata as git printed it here (the server cannot read the
checkout of an agent on another machine)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call

if TYPE_CHECKING:
    from collections.abc import Mapping

    from oncall_tui.agents.commits.git import GitCommit
    from oncall_tui.agents.hook.model import HookAnswer, HookInput
    from oncall_tui.agents.hook.repo_facts import RepoFacts

COMMIT_SUBJECT_CHARS = 200
COMMIT_FILES = 200
"""The journal's caps on a commit's subject and files (``core.commit_records``, which this
module cannot import: it needs ``typing``); a test holds them equal. What the journal would cut
is cut here, so that the server's strict caps never refuse a commit for them."""
COMMIT_TRAILERS = 32
"""Trailer lines sent, each cut at ``MAX_TRAILER_CHARS``: an attribution trailer is among the
first few of any commit."""


def event_body(
    hook: HookInput,
    facts: RepoFacts,
    *,
    slug: bool = True,
    commit: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The JSON body for ``hook`` with the checkout's ``facts``; the commit's checkout only when
    there is one (a server elsewhere could not read it, and ignores it). ``slug`` false leaves
    out the repository's name (one more git call), for a session the server knows already.
    ``commit``: what :func:`commit_body` made of the commit the call made, when it made one."""
    repo: dict[str, object] = {
        "slug": facts.slug() if slug else None,
        "branch": facts.branch,
        "written": facts.written,
    }
    if facts.commit_dir is not None:
        repo["commit_dir"] = facts.commit_dir
    body: dict[str, object] = {
        "agent": hook.agent,
        "event": hook.event.value,
        "cwd": hook.cwd,
        "native_event": hook.native_event,
        "hears": hook.hears,
        "tool": hook.action.kind.value,
        "repo": repo,
    }
    if commit is not None:
        body["commit"] = dict(commit)
    return body


def commit_body(found: GitCommit, repo: str | None) -> dict[str, object]:
    """A commit read on the agent's machine, as the server records it (``HookEventBody.commit``).

    ``repo`` is the slug of the checkout it was made in when that is not the hook's cwd (the
    session's own checkout, whose repository the server knows); None otherwise. The subject is
    cleaned and cut as the journal would, so both sides keep the same text; the server cleans it
    again all the same (it trusts no sender).
    """
    from oncall_tui.agents.commits.trailers import MAX_TRAILER_CHARS
    from oncall_tui.core.sanitize import clean

    return {
        "sha": found.sha,
        "parents": list(found.parents),
        "authored_at": found.authored_at.isoformat(),
        "subject": clean(found.subject).split("\n", 1)[0][:COMMIT_SUBJECT_CHARS],
        "files": list(found.files[:COMMIT_FILES]),
        "trailers": [line[:MAX_TRAILER_CHARS] for line in found.trailers[:COMMIT_TRAILERS]],
        "repo": repo,
    }


def decided_answer(data: Mapping[str, object]) -> HookAnswer:
    """The server's JSON answer to an event (``{"context": ..., "guard": ...}``), checked."""
    from oncall_tui.agents.hook.model import HookAnswer

    context, guard = data.get("context") or "", data.get("guard")
    if not isinstance(context, str) or not (guard is None or isinstance(guard, str)):
        raise ValueError("unexpected answer")
    return HookAnswer(context=context, guard=guard)
