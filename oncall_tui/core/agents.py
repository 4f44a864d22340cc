"""Agent sessions, context pushes and notes: the agent side of the domain."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from oncall_tui.core.urls import without_userinfo

SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
"""Session ids name files in the export directory: no separators, no dot-dot, bounded."""
MAX_SESSION_PATHS = 200
DIRECT_CHANNELS = frozenset({"hook", "mcp"})
"""Channels through which an agent is known to have read its context (not files)."""


class InvalidIdError(ValueError):
    pass


def validate_session_id(value: str) -> str:
    if not SESSION_ID.match(value) or ".." in value:
        raise InvalidIdError(
            f"invalid session id {value[:80]!r}: use 1-128 letters, digits, '.', '_', ':' or '-'"
        )
    return value


class AgentKind(StrEnum):
    CLAUDE_CODE = "claude-code"
    CODEX = "codex"
    CURSOR = "cursor"
    GEMINI = "gemini"
    COPILOT = "copilot"
    AIDER = "aider"
    OTHER = "other"


class SessionState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    ENDED = "ended"


class AgentSession(BaseModel):
    """An AI coding agent at work, as projected from ``session.*`` entries."""

    # Validators are built on first use, not at import: a short-lived command (a hook, an
    # approval) pays only for the models it validates.
    model_config = ConfigDict(defer_build=True)

    id: str
    agent: AgentKind = AgentKind.OTHER
    repo: str | None = None
    """Repository identifier: ``owner/name`` from the git remote, or the root directory name."""
    cwd: str | None = None
    branch: str | None = None
    task: str = ""
    paths: list[str] = Field(default_factory=list)
    """Files it touched, relative to the repo root, most recent last."""
    first_seen: datetime
    last_seen: datetime
    ended_at: datetime | None = None
    last_context_seq: int = 0
    """Journal seq of the last context this session received (hook/MCP deltas start here)."""
    last_context_at: datetime | None = None
    source: str | None = None
    """How we learned of it: ``discovered`` when found from the agent's own transcript files;
    None when the session announced itself (a hook, the CLI, the HTTP API)."""

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        return validate_session_id(value)

    @model_serializer(mode="wrap")
    def _omit_unset_source(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out when unset, so sessions written before it existed read and write back to
        # the same text (journal bodies, stored rows, state dumps).
        data: dict[str, Any] = handler(self)
        if data.get("source") is None:
            data.pop("source", None)
        return data

    @field_validator("repo")
    @classmethod
    def _no_credentials(cls, value: str | None) -> str | None:
        # A remote URL given as the repo may carry a token; here is where every path that builds
        # a session passes, journal entries written before this rule included.
        return without_userinfo(value) if value else value

    def state(self, now: datetime, idle_after: timedelta, end_after: timedelta) -> SessionState:
        """Idle and ended follow from silence, so they need no journal entry of their own."""
        if self.ended_at is not None or now - self.last_seen >= end_after:
            return SessionState.ENDED
        if now - self.last_seen >= idle_after:
            return SessionState.IDLE
        return SessionState.ACTIVE


class PushState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"

    @property
    def is_live(self) -> bool:
        """Approved and not replaced: this is what the agent should currently know."""
        return self in (PushState.APPROVED, PushState.DELIVERED, PushState.ACKNOWLEDGED)

    @property
    def is_open(self) -> bool:
        return self is PushState.PENDING


class PushKind(StrEnum):
    UPDATE = "update"
    """An incident concerns this session (opened or changed materially)."""
    STAND_DOWN = "stand-down"
    """The incident resolved: the agent may resume normal work."""
    BROADCAST = "broadcast"
    """An engineer's message to every active session (or every session in a repo)."""


class Push(BaseModel):
    """Context one session (or an audience, for a broadcast) should receive about one incident."""

    model_config = ConfigDict(defer_build=True)

    id: str
    number: int
    incident_id: str
    session_id: str | None
    """None for a broadcast, whose audience is in ``audience``."""
    audience: str | None = None
    kind: PushKind
    version: int = 1
    state: PushState = PushState.PENDING
    trigger: str
    """What made us propose it: ``opened``, ``severity critical``, ``suspect deploy``, ``resolved``..."""
    reason: str = ""
    """Why this session is affected (files, service, dependency path)."""
    services: list[str] = Field(default_factory=list)
    guidance: str = ""
    """The engineer-facing Markdown the agent reads (editable); sender text is never here."""
    proposed_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reject_reason: str | None = None
    edited_by: str | None = None
    delivered_at: datetime | None = None
    delivered_via: list[str] = Field(default_factory=list)
    acknowledged_at: datetime | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    auto_approved_by: str | None = None
    """The policy rule that approved it, if no human did."""
    recipients: list[str] = Field(default_factory=list)
    """Broadcasts: the sessions that were in the audience when it was sent."""
    live_seq: int | None = None
    """Journal seq of its approval: hooks print only what became live after their last read."""
    notice: bool = False
    """While pending, the session is told the incident is being assessed (a fixed notice, no
    guidance): set at proposal unless the policy only observes."""
    proposed_seq: int | None = None
    """Journal seq of its proposal: where a pending push's notice became news for hooks."""
    announced_via: list[str] = Field(default_factory=list)
    """Channels its notice reached while it was pending (``delivered_*`` wait for approval)."""
    basis: dict[str, Any] = Field(default_factory=dict)
    """The incident facts it was proposed on; a material change to them makes a new version."""

    @property
    def announced(self) -> bool:
        """A pending update whose incident the session hears of as a notice meanwhile."""
        return self.notice and self.state.is_open and self.kind is PushKind.UPDATE

    @property
    def news_seq(self) -> int | None:
        """Where it became news to a hook: its approval, or its proposal while it is announced."""
        return self.proposed_seq if self.announced else self.live_seq

    @property
    def told_directly(self) -> bool:
        """Whether a hook printed it or an MCP client read it: a file proves no reading."""
        reached = [*self.delivered_via, *self.announced_via]
        return any(channel in DIRECT_CHANNELS for channel in reached)

    @property
    def reached_via(self) -> list[str]:
        """The channels what it says now reached: the notice while pending, else the push."""
        return self.announced_via if self.announced else self.delivered_via


class NoteKind(StrEnum):
    DECISION = "decision"
    RUNBOOK = "runbook"
    WARNING = "warning"


class Note(BaseModel):
    """Operational memory that outlives sessions, for every session touching the service."""

    model_config = ConfigDict(defer_build=True)

    id: str
    number: int
    service: str | None
    incident_id: str | None = None
    kind: NoteKind
    text: str
    rationale: str = ""
    author: str
    agent_authored: bool = False
    """Agent notes stay out of other agents' context until an engineer accepts them."""
    accepted: bool = True
    paths: list[str] = Field(default_factory=list)
    """Files the note is about, relative to ``repo_root``; a note whose files are gone is stale."""
    repo_root: str | None = None
    review_by: datetime | None = None
    created_at: datetime
    updated_at: datetime
    superseded_by: str | None = None
    supersedes: str | None = None
    """The note this one replaces once accepted (an agent's proposed update)."""
    rejected: bool = False
    retired: bool = False
    closed_reason: str = ""
    """Why an engineer rejected or retired it."""

    @model_serializer(mode="wrap")
    def _omit_unset_review_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out at their defaults, so notes written before they existed read and write back
        # to the same text (journal bodies, stored rows, state dumps).
        data: dict[str, Any] = handler(self)
        for key, default in _NOTE_REVIEW_DEFAULTS.items():
            if key in data and data[key] == default:
                del data[key]
        return data

    @property
    def is_current(self) -> bool:
        return self.superseded_by is None and self.accepted and not self.is_closed

    @property
    def is_closed(self) -> bool:
        """Rejected or retired: it reaches no context and leaves the repository's memory."""
        return self.rejected or self.retired

    @property
    def is_pending(self) -> bool:
        """An agent's note or proposal an engineer has not decided on yet."""
        return not self.accepted and not self.is_closed and self.superseded_by is None

    def stale_reasons(
        self, now: datetime, missing_paths: list[str], later_commits: list[str] | None = None
    ) -> list[str]:
        """Why the note may no longer be true (the caller checks the files and the git history;
        core does no IO). ``later_commits`` are :func:`changed_by_commit` reasons."""
        reasons = [f"{path} no longer exists" for path in missing_paths]
        reasons += later_commits or []
        if self.review_by is not None and now >= self.review_by:
            reasons.append(f"review was due {self.review_by:%Y-%m-%d}")
        return reasons


_NOTE_REVIEW_DEFAULTS: dict[str, Any] = {
    "supersedes": None,
    "rejected": False,
    "retired": False,
    "closed_reason": "",
}

CHANGED_BY_COMMIT = "changed by commit "
"""How a reason from the git history begins (the context asks the agent to review those)."""


def changed_by_commit(sha: str, committed_at: datetime, path: str) -> str:
    """Why a note is flagged for review: a commit after it touched one of its paths."""
    return f"{CHANGED_BY_COMMIT}{sha[:12]} on {committed_at:%Y-%m-%d} touched {path}"


def merge_paths(existing: list[str], new: list[str]) -> list[str]:
    """Most recently touched last, no duplicates, bounded."""
    merged = [p for p in existing if p not in new] + list(dict.fromkeys(new))
    return merged[-MAX_SESSION_PATHS:]


def session_body(session: AgentSession) -> dict[str, Any]:
    return session.model_dump(
        mode="json", exclude={"last_context_seq", "last_context_at", "ended_at"}
    )
