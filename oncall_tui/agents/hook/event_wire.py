"""A hook event as a server decides on it (``POST /sessions/{id}/events``): the normalised event
and the facts of the checkout, never file contents or the command's text."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call

if TYPE_CHECKING:
    from collections.abc import Mapping

    from oncall_tui.agents.hook.model import HookAnswer, HookInput
    from oncall_tui.agents.hook.repo_facts import RepoFacts


def event_body(hook: HookInput, facts: RepoFacts, *, slug: bool = True) -> dict[str, object]:
    """The JSON body for ``hook`` with the checkout's ``facts``; the commit's checkout only when
    there is one (a server elsewhere could not read it, and ignores it). ``slug`` false leaves
    out the repository's name (one more git call), for a session the server knows already."""
    repo: dict[str, object] = {
        "slug": facts.slug() if slug else None,
        "branch": facts.branch,
        "written": facts.written,
    }
    if facts.commit_dir is not None:
        repo["commit_dir"] = facts.commit_dir
    return {
        "agent": hook.agent,
        "event": hook.event.value,
        "cwd": hook.cwd,
        "native_event": hook.native_event,
        "hears": hook.hears,
        "tool": hook.action.kind.value,
        "repo": repo,
    }


def decided_answer(data: Mapping[str, object]) -> HookAnswer:
    """The server's JSON answer to an event (``{"context": ..., "guard": ...}``), checked."""
    from oncall_tui.agents.hook.model import HookAnswer

    context, guard = data.get("context") or "", data.get("guard")
    if not isinstance(context, str) or not (guard is None or isinstance(guard, str)):
        raise ValueError("unexpected answer")
    return HookAnswer(context=context, guard=guard)
