"""The demo incident played at its real pace on a fixed clock: the input of the timeline goldens.

The demo scenario (``sample_data/scenario/demo.toml``) is played with every step at the story
time its payload carries, the clock set to that time before each action, and the fence key fixed,
so the journal and the documents are the same bytes on every run. Around the scenario's steps the
night goes on as it would with the exporter and agents running: context files are synced after
each decision (``context.delivered`` via file), agents send heartbeats, one push is rejected,
another acknowledged, a broadcast goes out, a note is written, a session ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oncall_tui.actions import Rules
from oncall_tui.actions import notes as note_actions
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions import sessions as session_actions
from oncall_tui.agents.export.sync import CONTEXT_MD, SESSIONS, sync
from oncall_tui.config import Settings
from oncall_tui.core.agents import NoteKind, PushState
from oncall_tui.core.clock import FixedClock
from oncall_tui.demo.command import demo_settings
from oncall_tui.demo.scenario import Scenario, ScenarioPlayer, load_scenario
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import FENCE_KEY

START = datetime(2026, 11, 23, 11, 50, tzinfo=UTC)
FENCE_KEY_HEX = "ab" * 32
APPROVE_AT = timedelta(minutes=10, seconds=10)
"""The scenario's untimed approval step, placed between the page and the acknowledgement."""
LEAD = "user:alice"
WORKERS = ("cursor-payments-timeouts", "cc-processor-retry", "cc-checkout-wallets")

Action = Callable[["Story"], None]


class Story:
    """The store, the clock and what the exporter wrote, while the story plays."""

    def __init__(self, workdir: Path) -> None:
        self.settings = demo_settings(workdir)
        self.clock = FixedClock(START)
        self.store = Store.open(self.settings.db, self.clock)
        self.rules = Rules.from_settings(self.settings)
        self.documents: dict[int, str] = {}
        """Journal seq of each file delivery → the CONTEXT.md the agent found."""

    def sync(self) -> None:
        before = self.store.max_seq()
        report = sync(self.store, self.settings)
        rows = self.store.conn.execute(
            "SELECT seq, json_extract(body, '$.session_id') FROM journal"
            " WHERE kind = 'context.delivered' AND seq > ?",
            (before,),
        ).fetchall()
        for seq, session_id in rows:
            path = report.root / SESSIONS / session_id / CONTEXT_MD
            self.documents[seq] = path.read_text(encoding="utf-8")

    def pending(self, session_id: str) -> str:
        found = self.store.tables().pending_pushes_for_session(session_id)
        assert found, f"no pending push for {session_id}"
        return found[-1].id

    def approve(self, session_id: str) -> None:
        push_actions.approve(self.store, self.pending(session_id), LEAD, self.rules)

    def heartbeat(self, *session_ids: str) -> None:
        for session_id in session_ids:
            session_actions.heartbeat(self.store, self.rules, session_id)


def _actions() -> list[tuple[timedelta, Action]]:
    """Everything that happens besides the scenario's own steps, by time after START."""

    def at(minutes: int, seconds: int = 0) -> timedelta:
        return timedelta(minutes=minutes, seconds=seconds)

    def reject_ledger(story: Story) -> None:
        reason = "ledger postings do not call the processor"
        push_actions.reject(story.store, story.pending("codex-ledger-postings"), LEAD, reason)

    def acknowledge(story: Story) -> None:
        live = [
            p
            for p in story.store.tables().pushes_for_incident("INC-1")
            if p.session_id == "cc-processor-retry" and p.state is PushState.DELIVERED
        ]
        push_actions.acknowledge(story.store, live[-1].id, "agent:cc-processor-retry")

    def approve_round(story: Story) -> None:
        for session_id in WORKERS:
            story.approve(session_id)
        reject_ledger(story)

    def note(story: Story) -> None:
        note_actions.add_note(
            story.store,
            author=LEAD,
            kind=NoteKind.DECISION,
            text="Keep the 2 s timeout in services/payments/client.py: it is the processor's"
            " circuit breaker.",
            service="payments-api",
            incident_id="INC-1",
            rationale="It kept INC-1 from taking checkout down.",
        )

    def broadcast(story: Story) -> None:
        message = "Deploy freeze on payment-processor until the rollback is verified."
        push_actions.broadcast(story.store, "INC-1", message, LEAD, story.rules)

    def end_ledger(story: Story) -> None:
        session_actions.end(story.store, story.rules, "codex-ledger-postings")

    beats: list[tuple[timedelta, Action]] = [
        (at(m), lambda s: s.heartbeat(*WORKERS)) for m in (3, 6, 12, 18, 24, 30, 36, 42, 48)
    ]
    return [
        *beats,
        (at(4, 31), Story.sync),
        (at(10, 12), Story.sync),
        (at(11, 30), reject_ledger),
        (at(15), acknowledge),
        (at(16), approve_round),
        (at(17, 30), Story.sync),
        (at(20), note),
        (at(22), broadcast),
        (at(23), Story.sync),
        (at(51, 11), Story.sync),
        (at(55), end_ledger),
    ]


def _paced(scenario: Scenario) -> Scenario:
    """Each step at its story time, so the payload times map onto themselves."""
    steps = []
    for step in scenario.steps:
        if step.at is not None:
            after = (step.at - START).total_seconds()
        else:
            after = APPROVE_AT.total_seconds() if step.approve else 0.0
        steps.append(replace(step, after_s=after))
    return Scenario(scenario.path, scenario.catalog, sorted(steps, key=lambda s: s.after_s))


def play_story(workdir: Path) -> tuple[Settings, dict[int, str]]:
    """Play the night into ``workdir``; returns the settings and the documents agents found."""
    story = Story(workdir)
    with story.store.write() as writer:
        writer.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)", (FENCE_KEY, FENCE_KEY_HEX)
        )
    scenario = _paced(load_scenario())
    player = ScenarioPlayer(scenario, story.store, story.settings, START)
    player.prepare()
    timed: list[tuple[timedelta, int, Action]] = [
        (timedelta(seconds=step.after_s), 0, lambda s, step=step: player.play(step))
        for step in scenario.steps
    ]
    timed += [(when, 1, action) for when, action in _actions()]
    for when, _, action in sorted(timed, key=lambda item: (item[0], item[1])):
        story.clock.set(START + when)
        action(story)
    story.store.close()
    return story.settings, story.documents
