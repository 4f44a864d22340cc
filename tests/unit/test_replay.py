"""Replay: the state folded to a point is the state the live path had there, and the cursor,
its milestones and the exposure of agent sessions read the night correctly."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall_tui.core import incidents, projection, pushes
from oncall_tui.core.agents import AgentKind, AgentSession, PushState
from oncall_tui.core.journal import (
    ContextDelivered,
    JournalBody,
    JournalEntry,
    PushAcknowledged,
    PushRejected,
    SessionRegistered,
    SessionSeen,
)
from oncall_tui.core.journal_rows import Row
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import IncidentState, Severity, SignalKind, SignalStatus
from oncall_tui.core.replay.cursor import Cursor, state_at, until
from oncall_tui.core.timeline.exposure import ContextStatus, Interval, exposure, incident_times
from oncall_tui.core.timeline.model import NAMED_JUMPS, Milestone, Timeline
from tests.factories import PAYMENTS_CATALOG, T0, MemoryJournal, make_signal

SESSIONS = {
    "s-processor": ("acme/payments", ["services/processor/retry.py"]),
    "s-payments": ("acme/payments", ["services/payments/client.py"]),
    "s-checkout": ("acme/checkout", ["web/pay.tsx"]),
    "s-search": ("acme/search", ["rank.py"]),
}


def dump(tables: MemoryTables) -> dict[str, Any]:
    """The whole state as plain data, independent of how replay copies it."""
    return {
        name: {repr(key): value.model_dump(mode="json") for key, value in table.items()}
        for name, table in vars(tables).items()
    }


class Night(MemoryJournal):
    """The live path on a clock: every append is stamped ``now``, and the live state after it
    is recorded for comparison."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.live: list[dict[str, Any]] = []
        self.load_catalog(PAYMENTS_CATALOG)

    def append(self, body: JournalBody, actor: str, *, text: str | None = None) -> JournalEntry:
        # No rows here: a text spelled ahead has nowhere to go.
        entry = JournalEntry.of(len(self.entries) + 1, self.now, actor, body)
        projection.apply(entry, self.tables)
        self.entries.append(entry)
        self.live.append(dump(self.tables))
        return entry

    def wait(self, minutes: float) -> Night:
        self.now += timedelta(minutes=minutes)
        return self

    @property
    def minute(self) -> float:
        return (self.now - T0).total_seconds() / 60

    def signal(self, alert: str, status: SignalStatus = SignalStatus.FIRING, **kw: Any) -> None:
        self.record(make_signal(alert, status=status, minute=self.minute, **kw))
        self.reconcile_all()

    def join(self, session_id: str) -> None:
        repo, paths = SESSIONS[session_id]
        session = AgentSession(
            id=session_id,
            agent=AgentKind.CLAUDE_CODE,
            repo=repo,
            paths=paths,
            first_seen=self.now,
            last_seen=self.now,
        )
        self.append(SessionRegistered(session), "agent")
        self.reconcile_all()

    def seen(self, session_id: str) -> None:
        self.append(SessionSeen(session_id), f"agent:{session_id}")

    def reconcile_all(self) -> None:
        policy = pushes.Policy(auto_approve=("stand-down",))
        for incident_id in sorted(self.tables.incidents):
            events = pushes.reconcile(
                incident_id, self.tables, policy, pushes.SessionTiming(), self.now
            )
            for event in events:
                self.append(event, "engine")

    def all_pending(self) -> list[str]:
        return sorted(p.id for p in self.tables.pushes.values() if p.state is PushState.PENDING)

    def approve(self, push_id: str, by: str = "user:alice") -> None:
        push = self.tables.pushes[push_id]
        live = [
            p
            for p in self.tables.pushes_for_incident(push.incident_id)
            if p.session_id == push.session_id and p.state.is_live
        ]
        for event in pushes.approval_events(push, live, by):
            self.append(event, by)

    def deliver(self, session_id: str, channel: str = "hook") -> None:
        """A hook print of the session's live pushes: what tells an agent (a file does not)."""
        ids = [
            p.id
            for p in self.tables.pushes.values()
            if p.state.is_live and (p.session_id == session_id or session_id in p.recipients)
        ]
        if ids:
            body = ContextDelivered(session_id, ids, channel, 0)
            self.append(body, f"agent:{session_id}")

    def acknowledge(self, push_id: str) -> None:
        self.append(PushAcknowledged(push_id, "agent"), "agent")

    def resolve(self, incident_id: str) -> None:
        incident = self.tables.incidents[incident_id]
        if incident.is_active:
            change = incidents.change_state(incident, IncidentState.RESOLVED, self.now, "ok")
            self.append(change, "user:alice")
            self.reconcile_all()


# --- the property: folded to T equals live at T ------------------------------------------

OPS = ("fire", "resolve_alert", "deploy", "join", "seen", "approve", "deliver", "ack", "resolve")


def play(ops: list[tuple[str, int, int]]) -> Night:
    night = Night()
    sessions = sorted(SESSIONS)
    for op, which, minutes in ops:
        night.wait(minutes)
        session = sessions[which % len(sessions)]
        if op == "fire":
            night.signal(f"a{which}", severity=[Severity.ERROR, Severity.CRITICAL][which % 2])
        elif op == "resolve_alert":
            night.signal(f"a{which}", SignalStatus.RESOLVED)
        elif op == "deploy":
            night.signal(f"d{which}", SignalStatus.SUCCESS, kind=SignalKind.DEPLOY)
        elif op == "join":
            night.join(session)
        elif op == "seen" and session in night.tables.sessions:
            night.seen(session)
        elif op == "approve" and (pending := night.all_pending()):
            night.approve(pending[which % len(pending)])
        elif op == "deliver" and session in night.tables.sessions:
            night.deliver(session)
            if night.entries[-1].kind != "context.delivered":
                for other in sorted(night.tables.sessions):
                    night.deliver(other)
        elif op == "ack":
            live = [p.id for p in night.tables.pushes.values() if p.state.is_live]
            if live:
                night.acknowledge(live[which % len(live)])
        elif op == "resolve" and night.tables.incidents:
            night.resolve(sorted(night.tables.incidents)[which % len(night.tables.incidents)])
    return night


journals = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 5), st.integers(0, 4)), min_size=1, max_size=25
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=journals, minutes=st.integers(-1, 120), seq=st.integers(0, 400))
def test_state_folded_to_a_point_equals_the_live_state_there(
    ops: list[tuple[str, int, int]], minutes: int, seq: int
) -> None:
    night = play(ops)
    when = T0 + timedelta(minutes=minutes)
    at_time = [e for e in night.entries if e.ts <= when]
    expected = night.live[len(at_time) - 1] if at_time else dump(MemoryTables())
    assert dump(state_at(night.entries, when)) == expected
    seq = min(seq, len(night.entries))
    expected = night.live[seq - 1] if seq else dump(MemoryTables())
    assert dump(state_at(night.entries, seq)) == expected


moves = st.lists(
    st.one_of(
        st.tuples(st.just("step"), st.integers(-30, 30)),
        st.tuples(st.just("time"), st.integers(-20, 20)),
        st.tuples(st.just("jump"), st.integers(0, len(NAMED_JUMPS) - 1)),
        st.tuples(st.just("milestone"), st.integers(0, 1)),
        st.tuples(st.just("warm"), st.integers(1, 10)),
    ),
    max_size=15,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=journals, steps=moves)
def test_the_cursor_always_shows_the_live_state_of_its_event(
    ops: list[tuple[str, int, int]], steps: list[tuple[str, int]]
) -> None:
    night = play([("fire", 0, 1), *ops])
    timeline = Timeline("INC-1", [Row.of(e) for e in night.entries])
    cursor = Cursor(timeline, snapshot_every=3, full_every=2)
    for move, value in steps:
        if move == "step":
            cursor.step(value)
        elif move == "time":
            cursor.step_time(timedelta(minutes=value))
        elif move == "jump":
            cursor.jump(NAMED_JUMPS[value])
        elif move == "milestone":
            (cursor.next_milestone if value else cursor.previous_milestone)()
        else:
            cursor.warm(value)
        assert dump(cursor.state) == night.live[cursor.event.seq - 1]
        assert cursor.event.ts <= cursor.at or cursor.index == 0


# --- one night, by hand --------------------------------------------------------------------


def minute(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def the_night() -> Night:
    """Deploy at 2, alert at 5, the agent told at 10 and acknowledging at 12, a new version
    approved at 14 and delivered at 16, a rollback at 20 (linked "during": no new version),
    resolved at 25, the stand-down read at 26.
    The agent shows signs of life at 0, 3, 6, 11, 13, 15, 18, 22 and 26."""
    night = Night()
    night.join("s-payments")
    night.join("s-search")
    night.wait(2).signal("d1", SignalStatus.SUCCESS, kind=SignalKind.DEPLOY)
    night.wait(1).seen("s-payments")
    night.wait(2).signal("a1")
    night.wait(1).seen("s-payments")
    night.wait(3).approve("P-1", "user:bob")
    night.wait(1).deliver("s-payments")
    night.wait(1).seen("s-payments")
    night.wait(1).acknowledge("P-1")
    night.wait(1).seen("s-payments")
    night.wait(1)
    incident = night.tables.incidents["INC-1"]
    change = incidents.change_state(incident, IncidentState.ACKNOWLEDGED, night.now, "on it")
    night.append(change, "user:alice")
    night.reconcile_all()
    night.approve("P-2")
    night.wait(1).seen("s-payments")
    night.wait(1).deliver("s-payments")
    night.wait(2).seen("s-payments")
    night.wait(2).signal("r1", SignalStatus.SUCCESS, kind=SignalKind.ROLLBACK)
    night.wait(2).seen("s-payments")
    night.wait(3).resolve("INC-1")
    night.wait(1).seen("s-payments")
    night.deliver("s-payments")
    return night


@pytest.fixture
def night() -> Night:
    return the_night()


@pytest.fixture
def cursor(night: Night) -> Cursor:
    return Cursor(Timeline("INC-1", [Row.of(e) for e in night.entries]), snapshot_every=4)


def test_milestones_mark_the_night(cursor: Cursor) -> None:
    marked = [(e.ts, e.milestone) for e in cursor.timeline.events if e.milestone is not None]
    assert marked == [
        (minute(2), Milestone.DEPLOY),
        (minute(5), Milestone.FIRST_SIGNAL),
        (minute(5), Milestone.OPENED),
        (minute(5), Milestone.PROPOSED),
        (minute(9), Milestone.APPROVED),
        (minute(10), Milestone.FIRST_TOLD),
        (minute(12), Milestone.ACKNOWLEDGED),
        (minute(14), Milestone.INCIDENT_ACKNOWLEDGED),
        (minute(14), Milestone.PROPOSED),
        (minute(14), Milestone.APPROVED),
        (minute(16), Milestone.DELIVERED),
        (minute(20), Milestone.ROLLBACK),
        (minute(25), Milestone.RESOLVED),
        (minute(25), Milestone.PROPOSED),
        (minute(25), Milestone.STAND_DOWN),
        (minute(26), Milestone.DELIVERED),
    ]
    # The sessions' registration before the story and the other session are context only.
    assert all(e.ts >= minute(2) for e in cursor.timeline.events)
    assert not any("s-search" in e.summary for e in cursor.timeline.events)


def test_summaries_are_built_from_structured_fields(cursor: Cursor) -> None:
    summaries = [e.summary for e in cursor.timeline.events if e.milestone is not None]
    assert summaries[4:7] == [
        "P-1 (for s-payments) approved by user:bob",
        "P-1 printed to s-payments by the hook",
        "P-1 (for s-payments) acknowledged by agent",
    ]
    assert summaries[2] == "INC-1 opened on payment-processor (critical): a1 on payment-processor"
    assert summaries[-2] == "P-3 (for s-payments) approved by policy (rule stand-down)"
    first = cursor.timeline.events[0]
    assert first.summary == "deploy payment-processor (success, alertmanager)"


def test_sender_text_is_cleaned_in_summaries() -> None:
    night = Night()
    night.signal("evil", title="\x1b[31mred\x1b[0m\u202e line\nnext")
    timeline = Timeline("INC-1", [Row.of(e) for e in night.entries])
    assert timeline.events[0].summary.endswith(": red line ⏎ next")


def test_stepping_by_event_and_by_time(cursor: Cursor) -> None:
    assert cursor.event.milestone is Milestone.DEPLOY
    assert cursor.step().kind == "session.seen"  # the session is part of the story from here
    assert cursor.step().milestone is Milestone.FIRST_SIGNAL
    assert cursor.step(-2).milestone is Milestone.DEPLOY
    cursor.step(-5)
    assert cursor.index == 0
    cursor.step(10_000)
    assert cursor.index == len(cursor.timeline.events) - 1
    cursor.seek_time(minute(7))
    assert cursor.at == minute(7)
    assert cursor.event.ts == minute(6) and cursor.event.kind == "session.seen"
    assert cursor.state.incidents["INC-1"].state is IncidentState.TRIGGERED
    cursor.step_time(timedelta(minutes=10))
    assert cursor.at == minute(17)
    assert cursor.event.kind == "context.delivered" and cursor.event.ts == minute(16)
    cursor.step_time(timedelta(minutes=-1))
    assert cursor.event.ts == minute(16)
    cursor.step_time(timedelta(hours=-5))
    assert cursor.index == 0 and cursor.at == minute(2)


def test_stepping_by_kind_and_milestone(cursor: Cursor) -> None:
    assert cursor.step_kind("push.approved") is not None
    assert cursor.event.ts == minute(9)
    assert cursor.step_kind("push.approved", forward=False) is None
    cursor.seek(0)
    found = cursor.step_kind("incident")
    assert found is not None and found.kind == "incident.opened"
    cursor.seek(0)
    seen = []
    while (event := cursor.next_milestone()) is not None:
        seen.append(event.milestone)
    assert seen[-1] is Milestone.DELIVERED and len(seen) == 15
    back = cursor.previous_milestone()
    assert back is not None and back.milestone is Milestone.STAND_DOWN


def test_named_jumps(cursor: Cursor) -> None:
    told = cursor.jump("first agent told")
    assert told is not None and told.ts == minute(10)
    assert cursor.state.pushes["P-1"].state is PushState.DELIVERED
    rollback = cursor.jump("rollback")
    assert rollback is not None and rollback.ts == minute(20)
    resolved = cursor.jump("resolved")
    assert resolved is not None
    assert cursor.state.incidents["INC-1"].state is IncidentState.RESOLVED
    deploy = cursor.jump("deploy")  # wraps to the only deploy, before the cursor
    assert deploy is not None and deploy.ts == minute(2)
    assert "P-1" not in cursor.state.pushes
    with pytest.raises(ValueError):
        cursor.jump("lunch")


def test_a_story_without_a_milestone_cannot_jump_there() -> None:
    night = Night()
    night.signal("a1")
    cursor = Cursor(Timeline("INC-1", [Row.of(e) for e in night.entries]))
    assert cursor.jump("rollback") is None
    assert cursor.index == 0


def test_the_state_is_the_fold_at_every_event_forward_and_back(night: Night) -> None:
    rows = [Row.of(e) for e in night.entries]
    cursor = Cursor(Timeline("INC-1", rows), snapshot_every=3)
    order = list(range(len(cursor.timeline.events)))
    for index in [*order, *reversed(order), *order[::3], *order[::-2]]:
        cursor.seek(index)
        assert dump(cursor.state) == dump(state_at(night.entries, cursor.event.seq))


def test_warm_folds_ahead_in_slices(night: Night) -> None:
    cursor = Cursor(Timeline("INC-1", [Row.of(e) for e in night.entries]), snapshot_every=5)
    slices = 0
    while not cursor.warm(budget=7):
        slices += 1
    assert slices >= 2
    cursor.jump("resolved")
    assert dump(cursor.state) == night.live[cursor.event.seq - 1]


def test_a_timeline_still_being_written_grows(night: Night) -> None:
    rows = [Row.of(e) for e in night.entries]
    half = len(rows) // 2
    cursor = Cursor(Timeline("INC-1", rows[:half]), snapshot_every=4)
    cursor.step(10_000)
    before = cursor.index
    added = cursor.extend(rows[half:])
    assert added and cursor.index == before
    assert cursor.jump("resolved") is not None
    assert dump(cursor.state) == night.live[cursor.event.seq - 1]
    with pytest.raises(ValueError):
        cursor.extend(rows[:1])


def test_until_cuts_the_journal_at_a_time_or_a_seq(night: Night) -> None:
    rows = [Row.of(e) for e in night.entries]
    assert [r.seq for r in until(rows, 3)] == [1, 2, 3]
    assert all(r.ts <= minute(10) for r in until(rows, minute(10)))
    assert len(list(until(rows, minute(10)))) == sum(1 for r in rows if r.ts <= minute(10))


def test_an_incident_without_events_cannot_be_replayed() -> None:
    with pytest.raises(ValueError):
        Cursor(Timeline("INC-9", []))


# --- exposure ------------------------------------------------------------------------------


def test_exposure_intervals_of_a_known_night(night: Night) -> None:
    timeline = Timeline("INC-1", [Row.of(e) for e in night.entries])
    [found] = exposure(timeline)
    assert found.session_id == "s-payments"
    assert found.service == "payments-api"
    assert found.intervals == [
        Interval(minute(5), minute(10), ContextStatus.MISSING),
        Interval(minute(10), minute(14), ContextStatus.CURRENT),
        Interval(minute(14), minute(16), ContextStatus.STALE),
        Interval(minute(16), minute(25), ContextStatus.CURRENT),
    ]
    assert found.seconds(ContextStatus.MISSING) == 300
    assert found.summary == (
        "s-payments worked 5 min on payments-api while payment-processor was critical before"
        " context reached it, then 2 min with outdated context"
    )


def test_exposure_needs_signs_of_life_closer_than_idle(night: Night) -> None:
    timeline = Timeline("INC-1", [Row.of(e) for e in night.entries])
    [found] = exposure(timeline, idle_after=timedelta(minutes=2))
    # Only 11→13 and 13→15 are gaps of at most 2 minutes.
    assert found.intervals == [
        Interval(minute(11), minute(14), ContextStatus.CURRENT),
        Interval(minute(14), minute(15), ContextStatus.STALE),
    ]


def test_a_rejected_session_is_not_exposed() -> None:
    night = Night()
    night.join("s-payments")
    night.wait(1).signal("a1")
    night.append(PushRejected("P-1", "user:alice", "no"), "user:alice")
    for _ in range(3):
        night.wait(5).seen("s-payments")
    [found] = exposure(Timeline("INC-1", [Row.of(e) for e in night.entries]))
    assert found.intervals == []
    assert found.summary == "s-payments did not work on payments-api while the incident was active"


def test_incident_times(night: Night) -> None:
    times = incident_times(Timeline("INC-1", [Row.of(e) for e in night.entries]))
    assert times.first_signal_at == minute(5)
    assert times.since_first_signal(times.first_approved_at) == timedelta(minutes=4)
    assert times.since_first_signal(times.first_delivered_at) == timedelta(minutes=5)
    assert times.since_first_signal(times.first_acknowledged_at) == timedelta(minutes=7)
    assert times.acknowledged_at == minute(14)
    assert times.resolved_at == minute(25)


def test_exposure_up_to_a_replay_clock(night: Night) -> None:
    timeline = Timeline("INC-1", [Row.of(e) for e in night.entries])
    [found] = exposure(timeline, until=minute(12))
    assert found.intervals == [
        Interval(minute(5), minute(10), ContextStatus.MISSING),
        Interval(minute(10), minute(12), ContextStatus.CURRENT),
    ]


def test_a_long_fold_keeps_its_state_from_the_collector_until_released(
    night: Night, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from oncall_tui.core.replay import cursor as cursor_module

    assert gc.get_freeze_count() == 0
    rows = [Row.of(e) for e in night.entries]
    monkeypatch.setattr(cursor_module, "KEPT_FOLD_ROWS", len(rows) // 2)
    cursor = Cursor(Timeline("INC-1", rows), snapshot_every=len(rows))
    cursor.step(1)
    cursor.state  # noqa: B018 - a short fold: the collector as ever
    assert gc.get_freeze_count() == 0
    cursor.jump("resolved")
    assert dump(cursor.state) == night.live[cursor.event.seq - 1]
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    cursor.release()
    assert gc.get_freeze_count() == 0
    cursor.step(-1)  # folded again from the start: a long fold, held again
    assert dump(cursor.state) == dump(state_at(night.entries, cursor.event.seq))
    cursor.release()
    assert gc.get_freeze_count() == 0
