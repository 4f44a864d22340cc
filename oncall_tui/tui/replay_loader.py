"""The replay screen's reads: one incident's cursor, driven from a single worker thread.

:class:`~oncall_tui.core.replay.cursor.Cursor` is not thread-safe and a sqlite connection belongs to
the thread that opened it, so a :class:`ReplaySession` is made, moved and closed in one thread
(the screen's replay worker). It turns the cursor's position into a :class:`ReplayFrame`: plain
data the UI thread can paint without touching the cursor. Nothing here writes to the store.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_tui.core.agents import Push, PushState
from oncall_tui.core.context.render import render_markdown
from oncall_tui.core.journal import (
    PUSH_KINDS,
    ContextDelivered,
    JournalBody,
    Kind,
    PushProposed,
)
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import Incident
from oncall_tui.core.replay.context import session_context
from oncall_tui.core.replay.cursor import Cursor
from oncall_tui.core.sanitize import clean
from oncall_tui.core.timeline.model import TimelineEvent
from oncall_tui.store.dashboard import SessionRow
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import FENCE_KEY
from oncall_tui.store.timeline import StorySource
from oncall_tui.tui.loader import Loader

Move = Callable[[Cursor], object]
"""A cursor move (``lambda c: c.step(1)``); run in the replay thread, its result ignored."""


@dataclass(frozen=True)
class Mark:
    """A milestone on the strip: where it is in the story and what it is called."""

    index: int
    ts: datetime
    name: str


@dataclass(frozen=True)
class ReplayFrame:
    """Everything the screen shows for one cursor position, read out of the folded state."""

    incident_id: str
    at: datetime
    index: int
    total: int
    event_kind: str
    event_ts: datetime
    actor: str
    summary: str
    incidents: list[Incident]
    sessions: list[SessionRow]
    pending: list[Push]
    detail: str
    start: datetime
    end: datetime
    marks: list[Mark]
    next_gap: float | None
    """Seconds from this event to the next one (None at the end): what play waits, at 1x."""


def read_fence_key(store: Store) -> bytes:
    """The DB's fence key, read only: :func:`~oncall_tui.store.meta.fence_key` would create one,
    and a replay must not write. A DB without one never delivered a document to match."""
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (FENCE_KEY,)).fetchone()
    return bytes.fromhex(row[0]) if row is not None else b""


class ReplaySession:
    """A store, a story and its cursor, owned by the one thread that created it."""

    def __init__(self, loader: Loader, incident_ref: str) -> None:
        self.store = loader.open()
        try:
            self.source = StorySource(self.store, incident_ref)
            self.cursor = self.source.open()
            self.key = read_fence_key(self.store)
        except Exception:
            self.store.close()
            raise
        self.incident_id = self.source.incident_id
        timeline = self.cursor.timeline
        self._marks = [
            Mark(i, timeline.events[i].ts, str(timeline.events[i].milestone))
            for i in timeline.milestones
        ]

    def close(self) -> None:
        self.store.close()

    def end(self) -> None:
        """The replay is over: what its folds made goes back to the garbage collector."""
        self.cursor.release()

    def move(self, move: Move) -> ReplayFrame:
        move(self.cursor)
        return self.frame()

    def warm(self, budget: int = 2000) -> bool:
        """Fold ahead while the screen is idle; True once every jump is cheap."""
        return self.cursor.warm(budget)

    def frame(self) -> ReplayFrame:
        cursor = self.cursor
        event, state = cursor.event, cursor.state
        events = cursor.timeline.events
        index, total = cursor.index, len(events)
        gap = (events[index + 1].ts - event.ts).total_seconds() if index + 1 < total else None
        return ReplayFrame(
            incident_id=self.incident_id,
            at=cursor.at,
            index=index,
            total=total,
            event_kind=event.kind,
            event_ts=event.ts,
            actor=event.actor,
            summary=event.summary,
            incidents=incidents_at(state, self.incident_id),
            sessions=sessions_at(state, self.incident_id),
            pending=pending_at(state, self.incident_id),
            detail=event_detail(event, state, self.key),
            start=events[0].ts,
            end=events[-1].ts,
            marks=self._marks,
            next_gap=max(gap, 0.0) if gap is not None else None,
        )


# --- the dashboard's panes, as of the cursor ---------------------------------------------


def incidents_at(state: MemoryTables, incident_id: str) -> list[Incident]:
    """The replayed incident first, then the others its sessions were told about."""
    others = sorted(
        (i for i in state.incidents.values() if i.id != incident_id),
        key=lambda i: (-i.severity.rank, i.number),
    )
    mine = state.get_incident(incident_id)
    return ([mine] if mine is not None else []) + others


def sessions_at(state: MemoryTables, incident_id: str) -> list[SessionRow]:
    """As the sessions pane builds them: each session with its latest push about the incident."""
    latest: dict[str, Push] = {}
    for push in sorted(state.pushes.values(), key=lambda p: p.number):
        if push.incident_id == incident_id and push.session_id is not None:
            latest[push.session_id] = push
    rows = [
        SessionRow(session, latest[session.id])
        for session in state.sessions.values()
        if session.id in latest
    ]
    return sorted(rows, key=lambda r: r.session.last_seen, reverse=True)


def pending_at(state: MemoryTables, incident_id: str) -> list[Push]:
    """As the pushes pane: what waited for a decision, newest first."""
    pending = [
        p
        for p in state.pushes.values()
        if p.incident_id == incident_id and p.state is PushState.PENDING
    ]
    return sorted(pending, key=lambda p: p.number, reverse=True)


# --- the event under the cursor -----------------------------------------------------------


def event_detail(event: TimelineEvent, state: MemoryTables, key: bytes) -> str:
    """What happened, by whom, and for pushes and deliveries what the agent was given: the
    document rendered from the state right after the event, byte for byte as it was served."""
    lines = [
        clean(event.summary),
        f"{event.kind} · by {clean(event.actor)} · {event.ts:%Y-%m-%d %H:%M:%S} UTC"
        f" · journal #{event.seq}",
    ]
    data = event.entry().data if event.kind in PUSH_KINDS or _delivery(event) else None
    push_id = _push_named(data, state, event.incident_id)
    push = state.get_push(push_id) if push_id else None
    if push is not None:
        lines += ["", f"Guidance of {push.id} v{push.version} ({push.state.value}):"]
        lines.append(clean(push.guidance) or "(none)")
        if isinstance(data, PushProposed) and push.edited_by:
            lines += ["", *edit_diff(state, push)]
    session_id = data.session_id if isinstance(data, ContextDelivered) else None
    if session_id is None and push is not None:
        session_id = push.session_id or (push.recipients[0] if push.recipients else None)
    if session_id:
        ctx = session_context(state, str(session_id))
        if ctx is not None:
            lines += ["", f"Context document of {session_id} after this event:", ""]
            lines.append(render_markdown(ctx, key))
    return "\n".join(lines)


def edit_diff(state: MemoryTables, push: Push) -> list[str]:
    """Who edited the guidance, and how it differs from the version it replaces."""
    previous = state.get_push(push.supersedes) if push.supersedes else None
    before = previous.guidance if previous is not None else ""
    name = previous.id if previous is not None else "(none)"
    diff = difflib.unified_diff(
        clean(before).splitlines(),
        clean(push.guidance).splitlines(),
        fromfile=f"{name} guidance",
        tofile=f"{push.id} guidance",
        lineterm="",
    )
    return [f"Edited by {clean(push.edited_by)}:", *diff]


def _delivery(event: TimelineEvent) -> bool:
    return event.kind == Kind.CONTEXT_DELIVERED


def _push_named(
    data: JournalBody | None, state: MemoryTables, incident_id: str | None
) -> str | None:
    """The push an entry is about: the one proposed, the first delivered of the replayed
    incident (a document may carry others' too), or the one moved."""
    if isinstance(data, PushProposed):
        return data.push.id
    if isinstance(data, ContextDelivered):
        own = [p for p in data.push_ids if _push_of(state.get_push(p), incident_id)]
        return next(iter(own or data.push_ids), None)
    push_id = getattr(data, "push_id", None)
    return str(push_id) if push_id else None


def _push_of(push: Push | None, incident_id: str | None) -> bool:
    return push is not None and push.incident_id == incident_id


def seek_clock(text: str, around: datetime) -> datetime:
    """``HH:MM``, ``HH:MM:SS`` (on the day of ``around``) or an ISO time, read as UTC."""
    text = text.strip()
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if 2 <= len(parts) <= 3 and "-" not in text:
        hour, minute, second = (*parts, 0)[:3]
        base = around.replace(hour=hour, minute=minute, second=second, microsecond=0)
        # the nearest such clock time to the story: an incident may cross midnight
        candidates = [base + timedelta(days=d) for d in (-1, 0, 1)]
        return min(candidates, key=lambda c: abs((c - around).total_seconds()))
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=around.tzinfo)
