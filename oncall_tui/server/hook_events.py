"""``POST /sessions/{id}/events``: a remote agent's hook event, decided here as the local hook.

The hook on the agent's machine parses its agent's JSON and asks git there about the checkout
(:func:`~oncall_tui.agents.hook.core.local_facts`); it sends the normalised event and those
facts, never file contents or the command's text. The answer is the decision the local hook
makes (:func:`~oncall_tui.agents.hook.core.answer`, the very same function) given those facts:
context to print and/or the edit guard's reason, which the hook renders with its agent's adapter.
A checkout that is not on this machine cannot be read here, so a remote agent's commits are
not recorded through its hook (the journal learns them from trailers and transcripts).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from oncall_tui.actions import Rules
from oncall_tui.agents.hook.core import answer
from oncall_tui.agents.hook.model import Action, ActionKind, Event, HookInput
from oncall_tui.agents.hook.repo_facts import RepoFacts
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import Clock
from oncall_tui.paths import DbLocation

MAX_WRITTEN_PATHS = 500


class RepoFactsBody(BaseModel):
    """The checkout as the agent's machine sees it."""

    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(default=None, max_length=200)
    branch: str | None = Field(default=None, max_length=250)
    written: list[str] = Field(default_factory=list, max_length=MAX_WRITTEN_PATHS)
    """The tool call's files, relative to the repository root."""
    commit_dir: str | None = Field(default=None, max_length=4096)
    """The checkout a finished shell call committed in: read only when the hook runs on this
    machine (``local``), since only then is that directory here."""


class HookEventBody(BaseModel):
    """One normalised hook event (:class:`~oncall_tui.agents.hook.model.HookInput`)."""

    model_config = ConfigDict(extra="forbid")

    agent: AgentKind
    event: Event
    cwd: str = Field(default="", max_length=4096)
    native_event: str = Field(default="", max_length=100)
    hears: bool = True
    tool: ActionKind = ActionKind.OTHER
    """What kind of tool call it is: whether the guard looks at it, and how it is journaled."""
    repo: RepoFactsBody = Field(default_factory=RepoFactsBody)


def decide_event(
    session_id: str,
    body: HookEventBody,
    db: DbLocation,
    rules: Rules,
    clock: Clock,
    *,
    local: bool = False,
) -> dict[str, str | None]:
    """The local hook's decision for the event, as the JSON the remote hook renders.

    ``local``: the hook runs on this machine (it bore ``serve``'s own secret), so the checkout
    it committed in can be read here and its commit recorded.
    """
    hook = HookInput(
        agent=body.agent.value,
        event=body.event,
        session_id=session_id,
        cwd=body.cwd,
        action=Action(body.tool),
        native_event=body.native_event,
        hears=body.hears,
    )
    slug = body.repo.slug
    facts = RepoFacts(
        branch=body.repo.branch,
        written=list(body.repo.written),
        slug=lambda: slug,
        commit_dir=body.repo.commit_dir if local else None,
    )
    decided = answer(hook, db, lambda: rules, clock, facts)
    return {"context": decided.context, "guard": decided.guard}
