"""Every journal kind, and the typed body each kind carries.

A body class knows its kind (``KIND``), so an entry cannot be written with a body of another
kind: ``Writer.append(PushApproved(...))`` is the whole call. The JSON a body writes is the
JSON the journal has always held (same keys, optional keys left out as before), so rows
already on disk decode into the same bodies.

Bodies are frozen slotted records (:func:`~oncall_tui.core.journal_body.record`), not pydantic
models: the fold of an alert storm builds two of them per alert, and the pydantic models they
carry (a signal, a push) are already validated where they were made. Decoding a stored row
validates those models as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Self, TypeVar

from pydantic import BaseModel

from oncall_tui.core import commit_records
from oncall_tui.core.agents import AgentSession, Note, Push
from oncall_tui.core.journal_body import JournalBody as JournalBody
from oncall_tui.core.journal_body import json_string, record
from oncall_tui.core.journal_kinds import CHANGING_NO_FILES as CHANGING_NO_FILES
from oncall_tui.core.journal_kinds import INCIDENT_KINDS as INCIDENT_KINDS
from oncall_tui.core.journal_kinds import NOTE_KINDS as NOTE_KINDS
from oncall_tui.core.journal_kinds import PUSH_KINDS as PUSH_KINDS
from oncall_tui.core.journal_kinds import SESSION_KINDS as SESSION_KINDS
from oncall_tui.core.journal_kinds import STORY_KINDS as STORY_KINDS
from oncall_tui.core.journal_kinds import Kind as Kind
from oncall_tui.core.journal_notes import NoteAccepted as NoteAccepted
from oncall_tui.core.journal_notes import NoteAdded as NoteAdded
from oncall_tui.core.journal_notes import NoteRejected as NoteRejected
from oncall_tui.core.journal_notes import NoteRetired as NoteRetired
from oncall_tui.core.journal_notes import NoteSuperseded as NoteSuperseded
from oncall_tui.core.models import Signal
from oncall_tui.core.topology import Service

_BY_KIND: dict[str, type[JournalBody]] = {}


BodyT = TypeVar("BodyT", bound=JournalBody)


def _body(
    kind: Kind,
    *,
    omitted_when_none: Iterable[str] = (),
    models: Mapping[str, type[BaseModel]] | None = None,
) -> Callable[[type[BodyT]], type[BodyT]]:
    """Register a body class for ``kind`` (its record fields become its JSON keys; those in
    ``models`` hold that model)."""

    def register(cls: type[BodyT]) -> type[BodyT]:
        cls.KIND = kind
        cls._KEYS = cls._FIELDS
        cls._OMITTED_WHEN_NONE = frozenset(omitted_when_none)
        cls._MODELS = dict(models or {})
        _BY_KIND[kind.value] = cls
        return cls

    return register


# --- signals and deliveries ----------------------------------------------------------------


SIGNAL_HEAD = '{"signal":'
"""How a ``signal.recorded`` entry's text starts as :meth:`SignalRecorded.spelled` spells it."""
SIGNAL_JSON = slice(len(SIGNAL_HEAD), -1)
"""Of such a text, the signal's own JSON."""
_DELIVERY_UNSET = ',"delivery_id":null,'


@_body(Kind.SIGNAL_RECORDED, models={"signal": Signal})
@record
class SignalRecorded(JournalBody):
    signal: Signal

    def spelled(self) -> str | None:
        # Performance: a storm writes one per signal, and encoding its dict was 10 us of the
        # fold's 140 a delivery; pydantic spells the same text in 3 where it can (tests hold it):
        # the signal's fields are declared in key order, as are its links', and its labels are
        # sorted when it is made. The journal's encoder escapes all but printable ASCII.
        try:
            text = self.signal.model_dump_json()
        except ValueError:  # a lone surrogate (a sender's escape), which pydantic cannot spell
            return None
        if text.isascii() and "\x7f" not in text:
            return f'{{"signal":{text}}}'
        return None

    def spelled_apart(self) -> tuple[str, str] | None:
        """:meth:`spelled`, for a signal not yet stamped with its delivery, cut where the
        delivery's id goes: the text of the same signal stamped with id ``n`` is ``head + str(n)
        + tail``. None if the signal is stamped already, or not one the journal spells.

        The text's first ``,"delivery_id":null,`` is the signal's own field: its fields are
        written in key order, and the only one before it is a string, in which a quote is
        escaped."""
        text = self.spelled() if self.signal.delivery_id is None else None
        if text is None:
            return None
        head, _, tail = text.partition(_DELIVERY_UNSET)
        return f'{head},"delivery_id":', f",{tail}"


@_body(Kind.DELIVERY_ACCEPTED)
@record
class DeliveryAccepted(JournalBody):
    delivery_id: int
    source: str
    signals: int

    def spelled(self) -> str | None:
        delivery_id, source, signals = self.delivery_id, self.source, self.signals
        if type(delivery_id) is int and type(signals) is int and type(source) is str:
            return f'{{"delivery_id":{delivery_id},"signals":{signals},"source":{json_string(source)}}}'
        return None


@_body(Kind.DELIVERY_REJECTED, omitted_when_none=("http_status",))
@record
class DeliveryRejected(JournalBody):
    delivery_id: int | None
    """``None`` when the refusal was counted but its bytes were not kept."""
    source: str
    reason: str
    http_status: int | None = None


# --- incidents -----------------------------------------------------------------------------


@_body(Kind.INCIDENT_OPENED)
@record
class IncidentOpened(JournalBody):
    incident_id: str
    number: int
    title: str
    service: str | None
    severity: str
    signal_id: int
    at: str | None = None


@_body(Kind.INCIDENT_SIGNAL_ATTACHED)
@record
class SignalAttached(JournalBody):
    incident_id: str
    signal_id: int

    def spelled(self) -> str | None:
        if type(self.incident_id) is str and type(self.signal_id) is int:
            return f'{{"incident_id":{json_string(self.incident_id)},"signal_id":{self.signal_id}}}'
        return None


@_body(Kind.INCIDENT_STATE_CHANGED)
@record
class StateChanged(JournalBody):
    incident_id: str
    state: str
    at: str | None = None
    reason: str = ""


@_body(Kind.INCIDENT_FREEZE_CHANGED)
@record
class FreezeChanged(JournalBody):
    incident_id: str
    frozen: bool
    by: str
    at: str | None = None


@_body(Kind.CHANGE_LINKED)
@record
class ChangeLinked(JournalBody):
    incident_id: str
    signal_id: int
    relation: str


# --- catalog and sessions ------------------------------------------------------------------


@_body(Kind.CATALOG_LOADED)
@record
class CatalogLoaded(JournalBody):
    services: dict[str, Service]
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "services": {name: s.model_dump(mode="json") for name, s in self.services.items()}
        }
        if self.source is not None:
            data["source"] = self.source
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        services = {name: Service.model_validate(s) for name, s in data["services"].items()}
        return cls(services, data.get("source"))


@_body(Kind.SESSION_REGISTERED, models={"session": AgentSession})
@record
class SessionRegistered(JournalBody):
    session: AgentSession


@_body(Kind.SESSION_SEEN, omitted_when_none=("paths", "branch", "task"))
@record
class SessionSeen(JournalBody):
    session_id: str
    paths: list[str] | None = None
    branch: str | None = None
    task: str | None = None


@_body(Kind.SESSION_ENDED)
@record
class SessionEnded(JournalBody):
    session_id: str


# --- pushes and deliveries of context ------------------------------------------------------


@_body(Kind.PUSH_PROPOSED, models={"push": Push})
@record
class PushProposed(JournalBody):
    push: Push

    def to_json(self) -> dict[str, Any]:
        # ``proposed_seq`` and ``announced_via`` are filled in by the projection (the entry's
        # own seq, later deliveries); ``notice`` is written only when set, as the journal wrote
        # proposals before it existed.
        data = JournalBody.to_json(self)
        data["push"].pop("proposed_seq", None)
        data["push"].pop("announced_via", None)
        if not data["push"].get("notice"):
            data["push"].pop("notice", None)
        return data


@_body(Kind.PUSH_APPROVED, omitted_when_none=("rule",))
@record
class PushApproved(JournalBody):
    push_id: str
    by: str
    rule: str | None = None
    """The auto-approve rule that approved it, when no human did."""


@_body(Kind.PUSH_REJECTED, omitted_when_none=("reason",))
@record
class PushRejected(JournalBody):
    push_id: str
    by: str
    reason: str | None = None


@_body(Kind.PUSH_SUPERSEDED)
@record
class PushSuperseded(JournalBody):
    push_id: str
    by_push: str


@_body(Kind.PUSH_EXPIRED, omitted_when_none=("reason",))
@record
class PushExpired(JournalBody):
    push_id: str
    reason: str | None = None


@_body(Kind.PUSH_ACKNOWLEDGED)
@record
class PushAcknowledged(JournalBody):
    push_id: str
    by: str


@_body(Kind.CONTEXT_DELIVERED)
@record
class ContextDelivered(JournalBody):
    session_id: str
    push_ids: list[str]
    channel: str
    through_seq: int = 0


# --- notes and the exporter ----------------------------------------------------------------


# The note bodies live in journal_notes (this module is at its size limit); their kinds here.
_body(Kind.NOTE_ADDED, models={"note": Note})(NoteAdded)
_body(Kind.NOTE_ACCEPTED)(NoteAccepted)
_body(Kind.NOTE_SUPERSEDED)(NoteSuperseded)
_body(Kind.NOTE_REJECTED)(NoteRejected)
_body(Kind.NOTE_RETIRED)(NoteRetired)


@_body(Kind.EXPORT_FAILED)
@record
class ExportFailed(JournalBody):
    file: str
    problems: list[str]
    session_id: str | None


# --- the edit guard ------------------------------------------------------------------------


class GuardDecision(StrEnum):
    """What the edit guard did about one tool call."""

    ASKED = "asked"
    """The agent asked the engineer first (Claude Code, Cursor, Copilot)."""
    DENIED = "denied"
    """The agent cannot ask from a hook (Codex, Gemini CLI): the call was refused."""
    ALLOWED_AFTER_ASK = "allowed-after-ask"
    """The file was written after an ask, or under an engineer's explicit override."""


class GuardTool(StrEnum):
    EDIT = "edit"
    PATCH = "patch"
    SHELL = "shell"


MAX_GUARD_PATHS = 20
"""Paths one decision keeps: a shell glob can name hundreds, the first few tell the story."""


@_body(Kind.GUARD_DECIDED)
@record
class GuardDecided(JournalBody):
    """One edit-guard decision: which files (relative to the repository), no command text, no
    file contents and no sender text, so the entry can be shown and exported as it is."""

    session_id: str
    incident_id: str
    decision: str
    """A :class:`GuardDecision` value."""
    tool: str
    """A :class:`GuardTool` value."""
    paths: list[str]
    service: str
    agent: str


@_body(Kind.GUARD_ALLOWED)
@record
class GuardAllowed(JournalBody):
    """An engineer lets one session write the files matching ``path_glob`` until ``until``."""

    session_id: str
    path_glob: str
    until: str
    """ISO time, UTC."""
    by: str


@_body(Kind.COMMIT_RECORDED)
@record
class CommitRecorded(JournalBody):
    commit: commit_records.Commit

    def to_json(self) -> dict[str, Any]:
        return commit_records.commit_to_json(self.commit)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(commit_records.commit_from_json(data))


@_body(Kind.DEPLOY_RANGE_RESOLVED)
@record
class DeployRangeResolved(JournalBody):
    deploy: commit_records.DeployRange

    def to_json(self) -> dict[str, Any]:
        return commit_records.deploy_to_json(self.deploy)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(commit_records.deploy_from_json(data))


@_body(Kind.TOKEN_CREATED)
@record
class TokenCreated(JournalBody):
    """A machine was given an agent token: its name only, never the token or its hash."""

    name: str


@_body(Kind.TOKEN_REVOKED)
@record
class TokenRevoked(JournalBody):
    name: str


def decode(kind: str, data: dict[str, Any]) -> JournalBody | None:
    """The typed body of a stored row; ``None`` for a kind this version does not know (a
    newer version wrote it: the fold ignores it rather than refuse the journal)."""
    cls = _BY_KIND.get(kind)
    return None if cls is None else cls.from_json(data)


@dataclass(slots=True, eq=False)
class JournalEntry:
    """One append-only fact as read back or just written.

    ``kind`` stays a plain string: a row written by a newer version must still load. :attr:`body`
    is the JSON the row holds; :attr:`data` is the same body typed, decoded on first use (an
    entry the writer made carries the body it was given, so the fold never decodes).
    """

    seq: int
    ts: datetime
    actor: str
    kind: str
    stored: dict[str, Any] | None
    """The row's JSON; None until asked for when the entry was made without it: one just
    written whose body spelled its text (a storm's signals: :attr:`body` makes it from the
    typed body), or one read with its typed body straight from its :attr:`text`."""
    typed: JournalBody | None = field(default=None, repr=False)
    text: str | None = field(default=None, repr=False)
    """The row's text, when the entry was read typed without its JSON."""

    @property
    def body(self) -> dict[str, Any]:
        if self.stored is None:
            if self.text is not None:
                self.stored = json.loads(self.text)
            else:
                assert self.typed is not None, "an entry has its JSON or its typed body"
                self.stored = self.typed.to_json()
        return self.stored

    @property
    def data(self) -> JournalBody | None:
        if self.typed is None:
            self.typed = decode(self.kind, self.body)
        return self.typed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JournalEntry):
            return NotImplemented
        return (self.seq, self.ts, self.actor, self.kind, self.body) == (
            other.seq,
            other.ts,
            other.actor,
            other.kind,
            other.body,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it was

    @classmethod
    def of(cls, seq: int, ts: datetime, actor: str, body: JournalBody) -> JournalEntry:
        return cls(seq, ts, actor, body.KIND, body.to_json(), body)
