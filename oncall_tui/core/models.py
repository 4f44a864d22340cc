"""Domain models shared by every layer: signals, incidents, journal entries.

These are plain pydantic models with no IO. Everything a sender gives us is normalised into a
:class:`Signal`; everything we decide is recorded as a journal entry (see :mod:`oncall_tui.core.journal`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Severity(StrEnum):
    """Normalised severity, ordered by :attr:`rank` (higher is worse)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: object, default: Severity | None = None) -> Severity:
        """Map the many spellings senders use (P1, high, crit, page...) onto our four levels."""
        text = str(value or "").strip().lower()
        found = _SEVERITY_ALIASES.get(text)
        if found is not None:
            return found
        return default if default is not None else cls.WARNING

    @classmethod
    def worst(cls, *values: Severity) -> Severity:
        return max(values, key=lambda s: s.rank)


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}
_SEVERITY_ALIASES: dict[str, Severity] = {
    **dict.fromkeys(
        ("critical", "crit", "page", "fatal", "p1", "sev1", "sev-1", "emergency", "disaster"),
        Severity.CRITICAL,
    ),
    **dict.fromkeys(
        ("error", "err", "high", "major", "p2", "sev2", "sev-2", "alert"), Severity.ERROR
    ),
    **dict.fromkeys(
        ("warning", "warn", "medium", "minor", "p3", "sev3", "sev-3", "average"), Severity.WARNING
    ),
    **dict.fromkeys(
        ("info", "informational", "low", "none", "p4", "p5", "ok", "success", "notice"),
        Severity.INFO,
    ),
}


class SignalKind(StrEnum):
    """What a signal is about: an alert-like fact, or a change to production."""

    ALERT = "alert"
    INCIDENT = "incident"
    BREAKER = "breaker"
    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    CHANGE = "change"

    @property
    def is_change(self) -> bool:
        """Deploys, rollbacks and other changes never open incidents; they are linked to them."""
        # Performance: asked several times per signal folded; a set of the members is a
        # third of the cost of naming them through the class each time.
        return self in _CHANGE_KINDS


_CHANGE_KINDS = frozenset({SignalKind.DEPLOY, SignalKind.ROLLBACK, SignalKind.CHANGE})


class SignalStatus(StrEnum):
    """Normalised status. Alert-like signals use the first three; changes use the rest."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    NOTICE = "notice"
    """Says something about an alert (a note, a reassignment) without changing its state."""
    # Change states (GitHub deployment_status states collapse onto these).
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    FAILURE = "failure"
    INACTIVE = "inactive"


class Link(BaseModel):
    """A link a sender attached (runbook, dashboard, graph, incident page)."""

    # Validators are built on first use, not at import: a short-lived command (a hook, an
    # approval) pays only for the models it validates.
    model_config = ConfigDict(frozen=True, defer_build=True)

    href: str  # in key order, as the signal's fields (see there)
    text: str = ""


class Signal(BaseModel):
    """One normalised fact from a sender.

    Identity is threefold (see the sender notes): ``delivery_key`` identifies the HTTP delivery
    (for dedup of retries), ``alert_key`` identifies the alert across deliveries (firing and
    resolved share it) and ``group_key`` the sender's own grouping, if any.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    # In key order: pydantic writes them in this order, and the journal's text of a signal is
    # its JSON with sorted keys (SignalRecorded spells it through pydantic: a storm's hot path).
    alert_key: str
    delivery_id: int | None = None
    """Row id of the raw delivery this signal came from (provenance)."""
    delivery_key: str
    environment: str | None = None
    group_key: str | None = None
    kind: SignalKind
    labels: dict[str, str] = Field(default_factory=dict)
    links: list[Link] = Field(default_factory=list)
    occurred_at: datetime
    received_at: datetime
    service: str | None = None
    severity: Severity = Severity.WARNING
    source: str
    status: SignalStatus
    text: str = ""
    title: str

    @field_validator("labels")
    @classmethod
    def _labels_sorted(cls, labels: dict[str, str]) -> dict[str, str]:
        # In key order, as the journal keeps them (sorted JSON): the projection stored live
        # and the one rebuilt from the journal are then the same, byte for byte.
        return dict(sorted(labels.items()))

    @property
    def is_resolution(self) -> bool:
        return self.status is SignalStatus.RESOLVED


class IncidentState(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"

    @property
    def is_active(self) -> bool:
        return self is not IncidentState.RESOLVED


class Incident(BaseModel):
    """An incident as projected from the journal."""

    model_config = ConfigDict(defer_build=True)

    id: str
    number: int
    title: str
    service: str | None
    services: list[str] = Field(default_factory=list)
    severity: Severity
    state: IncidentState
    opened_at: datetime
    """THE opened time: when oncall-tui received the signal that opened it (our clock).

    Ages, lists, ``--since`` windows, the timeline and replay all use this one. The receipt is
    ours and moves with the journal; a sender's clock, or an old alert delivered again, cannot
    make a new incident look days old or drop it from this week's review.
    """
    signal_started_at: datetime | None = None
    """When that first signal says the problem began, by its sender's clock (Alertmanager
    ``startsAt``, PagerDuty ``created_at``...). None in projections made before it was kept."""
    updated_at: datetime
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    alert_keys: list[str] = Field(default_factory=list)
    resolved_alert_keys: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    signal_count: int = 0
    last_signal_at: datetime | None = None
    links: list[Link] = Field(default_factory=list)
    deploy_freeze: bool = False
    """Declared by an engineer: agents are told not to deploy or merge for the affected code."""

    @property
    def is_active(self) -> bool:
        return self.state.is_active

    @property
    def signal_time(self) -> datetime:
        """The start by the senders' clock: what other signals' own times are compared with
        (the correlation window, suspect changes), so those decisions never mix two clocks."""
        return self.signal_started_at or self.opened_at


class StoredSignal(BaseModel):
    """A signal as kept in the projection, with the journal position that recorded it."""

    model_config = ConfigDict(defer_build=True)

    id: int
    """The journal ``seq`` of the ``signal.recorded`` entry."""
    incident_id: str | None = None
    signal: Signal


class ChangeLink(BaseModel):
    """A deploy/rollback/change linked to an incident of the same service."""

    model_config = ConfigDict(defer_build=True)

    incident_id: str
    signal_id: int
    relation: str
    """``suspect`` when the change came shortly before the incident, ``during`` after it began."""


class AlertState(BaseModel):
    """The latest known status of one alert identity, and the incident it belongs to."""

    model_config = ConfigDict(defer_build=True)

    alert_key: str
    incident_id: str | None = None
    status: SignalStatus
    status_at: datetime
    """``occurred_at`` of the signal that set the status; older signals never overwrite it."""
