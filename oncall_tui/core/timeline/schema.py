"""The JSON form of an incident timeline: the model the three exports are written from.

Tools read ``oncall-tui timeline INC-42 --format json``; the Markdown and HTML pages are renderings
of the same :class:`TimelineDocument`, so all three always agree. Every string that a sender, an
agent or an engineer typed has been cleaned (no control or bidi characters); the renderers
escape it for their format. A change that breaks readers bumps :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from oncall_tui.core.agents import PushKind, PushState
from oncall_tui.core.models import IncidentState, Severity
from oncall_tui.core.regressions import AgentAssisted
from oncall_tui.core.timeline.exposure import ContextStatus
from oncall_tui.core.timeline.model import Milestone

SCHEMA_VERSION: Final = "1"
SCHEMA_ID = f"urn:oncall-tui:schema:timeline:{SCHEMA_VERSION}"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, serialize_by_alias=True)


class IncidentInfo(_Model):
    id: str
    number: int
    title: str = Field(description="From the first signal's sender: cleaned, one line.")
    service: str | None = None
    services: list[str] = Field(default_factory=list)
    severity: Severity
    state: IncidentState
    sources: list[str] = Field(default_factory=list)
    signal_count: int
    opened_at: datetime = Field(
        description="When oncall-tui received the signal that opened it: the opened time."
    )
    signal_started_at: datetime | None = Field(
        None, description="When that first signal says it began, by its sender's clock."
    )
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    links: list[str] = Field(
        default_factory=list, description="Sender links (runbooks, dashboards); http(s) only."
    )


class Times(_Model):
    """When each thing first happened; ``*_s`` are seconds after the first signal."""

    first_signal_at: datetime | None = None
    opened_at: datetime | None = None
    first_approved_at: datetime | None = None
    first_delivered_at: datetime | None = Field(
        None, description="The first agent told: a hook print or an MCP read, not a file write."
    )
    first_file_delivery_at: datetime | None = Field(
        None, description="The first context file written: no proof that an agent read it."
    )
    first_acknowledged_at: datetime | None = Field(
        None, description="The first acknowledgement of a push by an agent."
    )
    acknowledged_at: datetime | None = Field(None, description="The incident's acknowledgement.")
    resolved_at: datetime | None = None
    to_first_approval_s: float | None = None
    to_first_delivery_s: float | None = None
    to_first_file_delivery_s: float | None = None
    to_first_acknowledgement_s: float | None = None
    to_resolution_s: float | None = None


class Event(_Model):
    seq: int
    ts: datetime
    kind: str
    actor: str
    summary: str
    milestone: Milestone | None = None
    repeat_of: int | None = Field(
        None,
        description="A delivery of a document version already delivered: the seq of the first"
        " one, whose delivery record counts it.",
    )


class Change(_Model):
    """A deploy or rollback linked to the incident."""

    signal_id: int
    relation: str = Field(description="suspect (before the incident) or during.")
    summary: str
    occurred_at: datetime


class PushRecord(_Model):
    id: str
    version: int
    kind: PushKind
    session_id: str | None = None
    audience: str | None = None
    trigger: str
    reason: str
    state: PushState
    proposed_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    auto_approved_by: str | None = None
    reject_reason: str | None = None
    delivered_at: datetime | None = None
    delivered_via: list[str] = Field(default_factory=list)
    acknowledged_at: datetime | None = None
    supersedes: str | None = None
    guidance: str = Field(description="The engineer-approved text the push carried.")


class Delivery(_Model):
    """One document version reaching one session through one channel, however often.

    A hook print or an MCP read tells the agent (``told``); a file write does not prove that
    anyone opened the file. Repeated reads of the same version (same session, channel, pushes and
    journal position) are one record with their ``count``.
    """

    seq: int = Field(description="The first delivery of this version.")
    at: datetime = Field(description="The first delivery of this version (as first_at).")
    session_id: str
    channel: str
    push_ids: list[str]
    told: bool = Field(
        description="A hook printed it or an MCP client read it; false for a file write."
    )
    count: int = Field(1, description="How many times this version was delivered.")
    first_at: datetime
    last_at: datetime
    document: str | None = Field(
        description="The context document rendered from the state at this delivery."
    )


class Decision(_Model):
    seq: int
    at: datetime
    by: str
    what: str


class IntervalRecord(_Model):
    start: datetime
    end: datetime
    status: ContextStatus


class ExposureRecord(_Model):
    session_id: str
    service: str | None = None
    missing_s: float
    stale_s: float
    current_s: float
    intervals: list[IntervalRecord]
    summary: str


class AgentExposureRecord(_Model):
    """The exposure of one agent: its sessions' times added up (sessions of the same agent
    kind in the same worktree and branch, or resumed from one another, are one agent)."""

    agent_id: str
    agent: str
    sessions: list[str]
    missing_s: float
    stale_s: float
    current_s: float


class FollowUp(_Model):
    """A note written during or about the incident."""

    id: str
    kind: str
    service: str | None = None
    text: str
    rationale: str = ""
    author: str
    created_at: datetime


class RateBucket(_Model):
    start: datetime
    signals: int


class IncidentTimeline(_Model):
    incident: IncidentInfo
    through_seq: int = Field(description="The last journal entry this timeline reflects.")
    through: datetime
    times: Times
    events: list[Event]
    changes: list[Change]
    pushes: list[PushRecord]
    deliveries: list[Delivery]
    decisions: list[Decision]
    exposure: list[ExposureRecord]
    exposure_by_agent: list[AgentExposureRecord] = Field(default_factory=list)
    follow_ups: list[FollowUp]
    signal_rate: list[RateBucket]
    rate_bucket_s: int = Field(description="Width of a signal_rate bucket.")
    agent_assisted: AgentAssisted | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="Present when a suspect deploy shipped commits made in an agent session:"
        " the deploys, the commits, and what each session knew when it committed.",
    )


class TimelineDocument(_Model):
    schema_version: Literal["1"] = Field(SCHEMA_VERSION, alias="schema")
    incidents: list[IncidentTimeline]


def timeline_json_schema() -> dict[str, Any]:
    """The published schema of ``timeline --format json``, draft 2020-12."""
    schema = TimelineDocument.model_json_schema(by_alias=True)
    schema.update(
        {
            "title": "oncall-tui incident timeline",
            "description": (
                "Post-incident record: events, what agents were told and when (with the"
                " documents they read), decisions, exposure of agent sessions, follow-ups."
            ),
        }
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def timeline_json(document: TimelineDocument) -> str:
    """Stable bytes for the same journal: field order is the model's, lists are in time order."""
    return document.model_dump_json(indent=2) + "\n"
