"""``POST /sessions/{id}/events``: a remote agent's hook event, decided here as the local hook.

The hook on the agent's machine parses its agent's JSON and asks git there about the checkout
(:func:`~oncall_tui.agents.hook.core.local_facts`); it sends the normalised event and those
facts, never file contents or the command's text. The answer is the decision the local hook
makes (:func:`~oncall_tui.agents.hook.core.answer`, the very same function) given those facts:
context to print and/or the edit guard's reason, which the hook renders with its agent's adapter.

A checkout that is not on this machine cannot be read here, so after a shell call that
committed the remote hook reads the new ``HEAD`` itself, as the local hook would, and sends its
metadata (:func:`~oncall_tui.agents.hook.event_wire.commit_body`). It is checked strictly
(:class:`CommitBody`: hex shas, lengths, list caps; refused with the 400 of any invalid body)
and journaled as the local hook journals its own
(:func:`~oncall_tui.agents.commits.hook_commits.record_session_commit`): the sender's text is
data, cleaned and capped, and a repository it names is taken only when it is the session's or
a well-formed ``owner/name``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from oncall_tui.actions import Rules
from oncall_tui.agents.commits.git import GitCommit
from oncall_tui.agents.commits.hook_commits import record_session_commit
from oncall_tui.agents.commits.record import MAX_REPO_CHARS
from oncall_tui.agents.commits.trailers import MAX_TRAILER_CHARS
from oncall_tui.agents.hook.core import answer, report_internal_error
from oncall_tui.agents.hook.event_wire import COMMIT_TRAILERS
from oncall_tui.agents.hook.model import Action, ActionKind, Event, HookInput
from oncall_tui.agents.hook.repo_facts import RepoFacts
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import Clock
from oncall_tui.core.commit_records import MAX_FILES, MAX_SUBJECT_CHARS
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store

MAX_WRITTEN_PATHS = 500
MAX_PARENTS = 100
"""Octopus merges have a few parents (Linux's largest has 66): more is not an agent's commit."""
MAX_PATH_CHARS = 4096

Sha = Annotated[str, StringConstraints(pattern=r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")]
"""A full object name as git prints it: SHA-1, or SHA-256 in a repository that uses it."""
ChangedPath = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_PATH_CHARS, pattern=r"^[^\x00]*$")
]
TrailerLine = Annotated[str, StringConstraints(max_length=MAX_TRAILER_CHARS)]
_OWNER_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


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


class CommitBody(BaseModel):
    """A commit the hook read where the agent runs, as git printed it there."""

    model_config = ConfigDict(extra="forbid")

    sha: Sha
    parents: list[Sha] = Field(default_factory=list, max_length=MAX_PARENTS)
    authored_at: datetime
    """Strict ISO 8601 with its offset (git's ``%aI``)."""
    subject: str = Field(default="", max_length=MAX_SUBJECT_CHARS)
    files: list[ChangedPath] = Field(default_factory=list, max_length=MAX_FILES)
    trailers: list[TrailerLine] = Field(default_factory=list, max_length=COMMIT_TRAILERS)
    repo: str | None = Field(default=None, max_length=MAX_REPO_CHARS)
    """The checkout's ``owner/name`` when the commit was made outside the hook's cwd; None: in
    the session's own checkout."""

    @field_validator("authored_at", mode="before")
    @classmethod
    def _iso_with_offset(cls, value: object) -> datetime:
        """Parsed as the local hook parses git's date, so both record the same instant."""
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError("expected an ISO 8601 date with its offset")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("expected an ISO 8601 date with its offset")
        return parsed

    def as_read(self) -> GitCommit:
        return GitCommit(
            sha=self.sha,
            parents=tuple(self.parents),
            authored_at=self.authored_at,
            subject=self.subject,
            trailers=tuple(self.trailers),
            files=tuple(self.files),
        )


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
    commit: CommitBody | None = None
    """The commit a finished shell call made, read on the agent's machine."""

    @model_validator(mode="after")
    def _commit_after_a_shell_call(self) -> HookEventBody:
        if self.commit is not None and (
            self.event is not Event.POST_TOOL or self.tool is not ActionKind.SHELL
        ):
            raise ValueError("a commit comes only with a finished shell call")
        return self


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
    if body.commit is not None:
        # After the decision, which registered the session if it was new: its repository
        # names the commit. A failure here must not cost the agent its answer.
        try:
            record_sent_commit(hook, body.commit, slug, db, clock)
        except Exception:
            report_internal_error(db, component=f"hook {hook.agent}", event=hook.event.value)
    return {"context": decided.context, "guard": decided.guard}


def record_sent_commit(
    hook: HookInput, sent: CommitBody, cwd_slug: str | None, db: DbLocation, clock: Clock
) -> None:
    """Journal the commit a remote hook read as the session's, as the local hook would."""
    store = Store.open(db, clock)
    try:
        session = store.tables().get_session(hook.session_id)
        repo = accepted_repo(sent.repo, session.repo if session else None, cwd_slug)
        if repo is not None:
            record_session_commit(store, hook, sent.as_read(), repo)
    finally:
        store.close()


def accepted_repo(sent: str | None, session_repo: str | None, cwd_slug: str | None) -> str | None:
    """The repository a sent commit is recorded in; None refuses it.

    A commit in the session's own checkout (``sent`` None) is the session's repository's, as the
    local hook names it (the cwd's slug for a session registered without one). A name the agent
    sent is taken when it is the session's, or a well-formed ``owner/name``: a repository is
    matched against the catalog and shown as a name, outside any fence, so a sender's text is
    taken only in the shape a forge gives it.
    """
    name = sent if sent is not None else session_repo or cwd_slug
    if name is None:
        return None
    return name if name == session_repo or well_formed_slug(name) else None


def well_formed_slug(name: str) -> bool:
    """``owner/name`` as a forge spells it: two plain segments, neither ``.`` nor ``..``."""
    return _OWNER_NAME.fullmatch(name) is not None and not {".", ".."} & set(name.split("/"))
