"""One incident's story as a list of events: what the replay steps through and the exports print.

The timeline is built from journal rows whose bodies stay JSON text until needed: a storm's
100,000 signal bodies cost more to parse than the whole replay may take to open, so only the
few rows that decide membership and milestones (incident, change, push, delivery and session
entries) are parsed up front, events are made when first read, and a signal's summary is
written the first time someone reads it.

``rows`` is everything the fold needs (the incident, its signals and changes, its pushes, the
sessions they address, other incidents those sessions were told about, the catalog and notes);
``events`` are the rows that belong to this incident's story, in journal order.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, overload

from oncall_tui.core.agents import DIRECT_CHANNELS, PushKind
from oncall_tui.core.journal import INCIDENT_KINDS, PUSH_KINDS, SESSION_KINDS, JournalEntry, Kind
from oncall_tui.core.journal_rows import Row, attachment
from oncall_tui.core.models import SignalKind
from oncall_tui.core.timeline.text import FILE_CHANNEL, Names, describe

_UNPARSED = Kind.SIGNAL_RECORDED
"""The bulk kind: parsed only for linked changes, for a summary, or to be folded."""


class Milestone(StrEnum):
    """Moments a lead jumps between; the four named jumps are values of this enum too."""

    FIRST_SIGNAL = "first signal"
    OPENED = "incident opened"
    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    PROPOSED = "push proposed"
    APPROVED = "push approved"
    REJECTED = "push rejected"
    FIRST_TOLD = "first agent told"
    """The first hook print or MCP read of an approved push: a file write is no proof."""
    DELIVERED = "context delivered"
    FILE = "delivered to file"
    ACKNOWLEDGED = "push acknowledged"
    INCIDENT_ACKNOWLEDGED = "incident acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    STAND_DOWN = "stand-down"
    AGENT_COMMIT = "agent commit"
    """An agent session's commit that a suspect deploy of the incident shipped."""
    RANGE_RESOLVED = "deploy commits resolved"
    """What a suspect deploy shipped, read from the repository."""


NAMED_JUMPS = (Milestone.FIRST_TOLD, Milestone.DEPLOY, Milestone.ROLLBACK, Milestone.RESOLVED)
_STATE_MILESTONES = {
    "acknowledged": Milestone.INCIDENT_ACKNOWLEDGED,
    "mitigated": Milestone.MITIGATED,
    "resolved": Milestone.RESOLVED,
    "triggered": Milestone.REOPENED,
}
_CHANGE_MILESTONES = {
    SignalKind.DEPLOY.value: Milestone.DEPLOY,
    SignalKind.ROLLBACK.value: Milestone.ROLLBACK,
}
_PUSH_MILESTONES: dict[str, Milestone] = {
    Kind.PUSH_PROPOSED: Milestone.PROPOSED,
    Kind.PUSH_REJECTED: Milestone.REJECTED,
    Kind.PUSH_ACKNOWLEDGED: Milestone.ACKNOWLEDGED,
}


_ATTACH = Kind.INCIDENT_SIGNAL_ATTACHED
SUSPECT = "suspect"
"""The relation of a change link whose change may have caused the incident."""

Version = tuple[str, str, frozenset[str], int]
"""What makes two deliveries the same document: session, channel, push ids, journal position."""


def delivery_version(body: dict[str, Any]) -> Version:
    """The version a ``context.delivered`` body delivered (its JSON, as stored)."""
    return (
        str(body.get("session_id")),
        str(body.get("channel")),
        frozenset(str(p) for p in body.get("push_ids", [])),
        int(body.get("through_seq") or 0),
    )


@dataclass(slots=True, eq=False)
class TimelineEvent:
    """One step of the story. ``summary`` is built from structured fields on first read."""

    seq: int
    ts: datetime
    kind: str
    actor: str
    incident_id: str | None
    milestone: Milestone | None
    row_index: int
    """Position of the row in :attr:`Timeline.rows`: the state after it folds rows[:row_index+1]."""
    _row: Row = field(repr=False)
    _names: Names = field(repr=False)
    _summary: str | None = field(default=None, repr=False)

    @property
    def summary(self) -> str:
        if self._summary is None:
            self._summary = describe(self.entry(), self._names)
        return self._summary

    def entry(self) -> JournalEntry:
        """The journal entry, parsed anew (callers that need it often keep it)."""
        return self._row.entry()


class Events(Sequence[TimelineEvent]):
    """The story's events, each made on first access: opening a storm's 100,000 events costs a
    few list entries each, not an object each."""

    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline
        self._made: dict[int, TimelineEvent] = {}

    def __len__(self) -> int:
        return len(self._timeline.positions)

    @overload
    def __getitem__(self, index: int) -> TimelineEvent: ...
    @overload
    def __getitem__(self, index: slice) -> list[TimelineEvent]: ...
    def __getitem__(self, index: int | slice) -> TimelineEvent | list[TimelineEvent]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = index + len(self) if index < 0 else index
        if not 0 <= index < len(self):
            raise IndexError("event index out of range")
        made = self._made.get(index)
        if made is None:
            timeline = self._timeline
            position = timeline.positions[index]
            row = timeline.rows[position]
            incident = None if row.kind in SESSION_KINDS else timeline.incident_id
            milestone = timeline.marks.get(index)
            made = TimelineEvent(
                row.seq,
                row.ts,
                row.kind,
                row.actor,
                incident,
                milestone,
                position,
                row,
                timeline.names,
            )
            self._made[index] = made
        return made


class Timeline:
    """The rows of one incident's story and the events a lead steps through.

    Grows with :meth:`extend` while the incident is still being written to; rows must arrive in
    ``seq`` order, each batch after the last.
    """

    def __init__(self, incident_id: str, rows: Iterable[Row] = ()) -> None:
        self.incident_id = incident_id
        self.rows: list[Row] = []
        self.events = Events(self)
        self.positions: list[int] = []
        """Row index of each event."""
        self.seqs: list[int] = []
        self.times: list[datetime] = []
        """Running maximum of event times: what time-based seeking bisects."""
        self.milestones: list[int] = []
        """Indices of the events that carry a milestone."""
        self.marks: dict[int, Milestone] = {}
        self.names = Names()
        self.signal_ids: set[int] = set()
        """This incident's signals: attached alerts and linked changes."""
        self.change_ids: set[int] = set()
        self.suspect_ids: set[int] = set()
        """Linked changes that came before the incident: the deploys that may have caused it."""
        self._ranges: dict[int, frozenset[str]] = {}
        """Deploy signal id → the shas it shipped (every resolved range read so far)."""
        self._commits: set[str] = set()
        """Agent commits already on the story (a hook and a later scan may record one twice)."""
        self.sessions: set[str] = set()
        """Sessions this incident's pushes addressed."""
        self._versions: dict[tuple[Version, tuple[str, ...]], int] = {}
        """Each document version delivered to a session → seq of its first delivery."""
        self._approved: set[str] = set()
        """The incident's pushes approved so far: what a read can tell (a notice tells nothing)."""
        self._stood_down: set[tuple[str, str, str]] = set()
        """(session, channel, stand-down push) already delivered: a stand-down is news once."""
        self._started = False
        self._told = False
        self._first_signal = False
        self._add(list(rows))

    def extend(self, rows: Sequence[Row]) -> list[TimelineEvent]:
        """Add rows written since the last call; returns the events among them."""
        first = len(self.positions)
        self._add(rows)
        return self.events[first:]

    def _add(self, rows: Sequence[Row]) -> None:
        if rows and self.rows and rows[0].seq <= self.rows[-1].seq:
            raise ValueError(f"rows must follow seq {self.rows[-1].seq}; got {rows[0].seq}")
        bodies, attached = self._learn_all(rows)
        # The loop runs once per row of a storm: plain signals and attachments take the short way.
        plain = self.signal_ids - self.change_ids
        times, seqs, positions, all_rows = self.times, self.seqs, self.positions, self.rows
        last = times[-1] if times else None
        for row in rows:
            position = len(all_rows)
            all_rows.append(row)
            seq, kind = row.seq, row.kind
            milestone: Milestone | None = None
            if kind == _UNPARSED and seq in plain and self._first_signal:
                pass
            elif kind == _ATTACH:
                if seq not in attached:
                    continue
            else:
                included, milestone = (
                    self._signal(row) if kind == _UNPARSED else self._classify(row, bodies[seq])
                )
                if not included:
                    continue
            self._started = True
            if milestone is not None:
                self.marks[len(positions)] = milestone
                self.milestones.append(len(positions))
            ts = row.ts
            last = ts if last is None or ts > last else last
            times.append(last)
            seqs.append(seq)
            positions.append(position)

    def index_at(self, when: datetime) -> int:
        """The last event at or before ``when`` (0 when it comes before the first)."""
        return max(bisect_right(self.times, when) - 1, 0)

    def index_of_seq(self, seq: int) -> int:
        """The last event at or before journal position ``seq`` (0 when before the first)."""
        return max(bisect_right(self.seqs, seq) - 1, 0)

    # --- building -----------------------------------------------------------------------

    def _learn_all(self, rows: Sequence[Row]) -> tuple[dict[int, dict[str, Any]], set[int]]:
        """Which signals, pushes and sessions belong to the incident, before classifying: the
        parsed bodies of the few decisive rows, and the incident's attachment rows."""
        bodies: dict[int, dict[str, Any]] = {}
        attached: set[int] = set()
        mine, signal_ids = self.incident_id, self.signal_ids
        for row in rows:
            kind = row.kind
            if kind == _ATTACH:
                incident, signal_id = attachment(row.body)
                if incident == mine:
                    signal_ids.add(signal_id)
                    attached.add(row.seq)
            elif kind != _UNPARSED:
                body = bodies[row.seq] = json.loads(row.body)
                self._learn(kind, body)
        return bodies, attached

    def _learn(self, kind: str, body: dict[str, Any]) -> None:
        """Which signals, pushes and sessions belong to the incident, before classifying."""
        if kind in INCIDENT_KINDS:
            if body.get("incident_id") == self.incident_id and "signal_id" in body:
                self.signal_ids.add(int(body["signal_id"]))
                if kind == Kind.CHANGE_LINKED:
                    self.change_ids.add(int(body["signal_id"]))
                    if body.get("relation") == SUSPECT:
                        self.suspect_ids.add(int(body["signal_id"]))
        elif kind == Kind.DEPLOY_RANGE_RESOLVED:
            self._ranges[int(body["signal_id"])] = frozenset(str(s) for s in body.get("shas", ()))
        elif kind == Kind.PUSH_PROPOSED:
            push = body["push"]
            self.names.pushes[push["id"]] = (push.get("session_id"), push["kind"])
            if push["incident_id"] == self.incident_id:
                self.names.mine.add(push["id"])
                targets = [push.get("session_id"), *push.get("recipients", [])]
                self.sessions.update(t for t in targets if t)

    def _classify(self, row: Row, body: dict[str, Any]) -> tuple[bool, Milestone | None]:
        """Whether the row is part of the story, and the milestone it marks."""
        kind = row.kind
        if kind in INCIDENT_KINDS:
            if body.get("incident_id") != self.incident_id:
                return False, None
            self._started = True
            if kind == Kind.INCIDENT_OPENED:
                return True, Milestone.OPENED
            if kind == Kind.INCIDENT_STATE_CHANGED:
                return True, _STATE_MILESTONES.get(body["state"])
            return True, None
        if kind in PUSH_KINDS:
            return self._push(kind, body)
        if kind == Kind.CONTEXT_DELIVERED:
            return self._delivery(row.seq, body)
        if kind in SESSION_KINDS:
            session = body.get("session_id") or body.get("session", {}).get("id")
            return self._started and session in self.sessions, None
        if kind == Kind.NOTE_ADDED:
            return body["note"].get("incident_id") == self.incident_id, None
        if kind == Kind.GUARD_DECIDED:
            return body.get("incident_id") == self.incident_id, None
        if kind == Kind.DEPLOY_RANGE_RESOLVED:
            return self._resolved(body)
        if kind == Kind.COMMIT_RECORDED:
            return self._commit(body)
        return False, None

    def _resolved(self, body: dict[str, Any]) -> tuple[bool, Milestone | None]:
        """A resolved range belongs to the story when its deploy is one of the suspects."""
        if int(body["signal_id"]) not in self.suspect_ids:
            return False, None
        return True, Milestone.RANGE_RESOLVED

    def _commit(self, body: dict[str, Any]) -> tuple[bool, Milestone | None]:
        """A commit belongs to the story when an agent made it (a session or an agent trailer
        names it) and a suspect deploy shipped it; human commits of the range are only counted
        by the reports. A second record of the same commit is kept without a milestone."""
        sha = str(body.get("sha"))
        if not (body.get("session_id") or body.get("agent")):
            return False, None
        if not any(sha in self._ranges.get(s, ()) for s in self.suspect_ids):
            return False, None
        first = sha not in self._commits
        self._commits.add(sha)
        return True, Milestone.AGENT_COMMIT if first else None

    def _signal(self, row: Row) -> tuple[bool, Milestone | None]:
        if row.seq not in self.signal_ids:
            return False, None
        if row.seq in self.change_ids:
            signal = row.entry().body["signal"]
            self.names.changes[row.seq] = signal
            return True, _CHANGE_MILESTONES.get(signal["kind"])
        first, self._first_signal = not self._first_signal, True
        return True, Milestone.FIRST_SIGNAL if first else None

    def _delivery(self, seq: int, body: dict[str, Any]) -> tuple[bool, Milestone | None]:
        """A delivery belongs to the story when the document carried the incident: one of its
        pushes (a pending one's "being assessed" notice included), a stand-down only the first
        time it reached the session through that channel (older versions recorded it with every
        later read, when the document no longer named the incident).

        Reads of a version already delivered are kept but marked as repeats, with no milestone;
        only a hook print or an MCP read of an approved push tells an agent anything.
        """
        version = delivery_version(body)
        session, channel, push_ids, _ = version
        carried = [p for p in sorted(push_ids) if p in self.names.mine]
        news = [p for p in carried if (session, channel, p) not in self._stood_down]
        if not news:
            return False, None
        self._stood_down.update(
            (session, channel, p) for p in news if self.names.pushes[p][1] == PushKind.STAND_DOWN
        )
        approved = tuple(sorted(self._approved.intersection(news)))
        if not approved:
            self.names.notices.add(seq)
        # The same pushes read again are the same version only while none of them was approved
        # in between: a notice, then the guidance in its place, are two versions.
        first = self._versions.setdefault((version, approved), seq)
        if first != seq:
            self.names.repeats[seq] = first
            return True, None
        if channel == FILE_CHANNEL:
            return True, Milestone.FILE
        if channel not in DIRECT_CHANNELS or not self._approved.intersection(news):
            return True, Milestone.DELIVERED
        first_told, self._told = not self._told, True
        return True, Milestone.FIRST_TOLD if first_told else Milestone.DELIVERED

    def _push(self, kind: str, body: dict[str, Any]) -> tuple[bool, Milestone | None]:
        push_id = body["push"]["id"] if kind == Kind.PUSH_PROPOSED else body.get("push_id")
        if push_id not in self.names.mine:
            return False, None
        if kind == Kind.PUSH_APPROVED:
            self._approved.add(push_id)
            stand_down = self.names.pushes[push_id][1] == "stand-down"
            return True, Milestone.STAND_DOWN if stand_down else Milestone.APPROVED
        return True, _PUSH_MILESTONES.get(kind)
