"""The edit guard's journal bodies: stored as written, read back the same, told in words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from oncall_tui.agents.hook import guard_log
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.journal import (
    CHANGING_NO_FILES,
    MAX_GUARD_PATHS,
    STORY_KINDS,
    GuardAllowed,
    GuardDecided,
    GuardDecision,
    JournalEntry,
    Kind,
    decode,
)
from oncall_tui.core.timeline.text import Names, describe
from oncall_tui.store.journal import Store

AT = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
ASKED = GuardDecided(
    session_id="s-1",
    incident_id="INC-1",
    decision=GuardDecision.ASKED.value,
    tool="edit",
    paths=["services/processor/retry.py"],
    service="payment-processor",
    agent="claude-code",
)


def test_a_guard_decision_round_trips_through_the_journal(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "j.db", FixedClock(AT))
    allowed = GuardAllowed("s-1", "services/processor/*", "2026-12-02T06:30:00.000000Z", "user:a")
    with store.write() as writer:
        writer.append(ASKED, "agent:s-1")
        writer.append(allowed, "user:a")
    read = list(store.entries())
    rows = store.conn.execute("SELECT session_id, paths, decision FROM guard_decisions").fetchall()
    store.close()

    assert [e.kind for e in read] == [Kind.GUARD_DECIDED, Kind.GUARD_ALLOWED]
    assert [e.data for e in read] == [ASKED, allowed]
    assert decode(Kind.GUARD_DECIDED, json.loads(json.dumps(ASKED.to_json()))) == ASKED
    assert rows == [("s-1", '["services/processor/retry.py"]', "asked")]


def test_guard_entries_change_no_files_and_only_decisions_tell_the_story() -> None:
    assert {Kind.GUARD_DECIDED, Kind.GUARD_ALLOWED} <= CHANGING_NO_FILES
    assert Kind.GUARD_DECIDED in STORY_KINDS and Kind.GUARD_ALLOWED not in STORY_KINDS


def test_the_hook_spells_the_decisions_as_the_journal_does() -> None:
    assert {guard_log.ASKED, guard_log.DENIED, guard_log.ALLOWED_AFTER_ASK} == {
        d.value for d in GuardDecision
    }
    assert guard_log.MAX_PATHS == MAX_GUARD_PATHS


def test_a_decision_reads_as_a_sentence() -> None:
    entry = JournalEntry.of(7, AT, "agent:s-1", ASKED)

    assert describe(entry, Names()) == (
        "s-1 asked before editing services/processor/retry.py (payment-processor, INC-1)"
    )


def test_many_paths_are_cut_short_in_the_line() -> None:
    paths = [f"services/processor/f{i}.py" for i in range(5)]
    denied = GuardDecided("s-2", "INC-1", "denied", "patch", paths, "payment-processor", "codex")

    line = describe(JournalEntry.of(8, AT, "agent:s-2", denied), Names())

    assert line.startswith("s-2 was stopped before patching services/processor/f0.py,")
    assert line.endswith("f2.py and 2 more (payment-processor, INC-1)")


def test_an_override_glob_covers_a_tree_or_a_pattern() -> None:
    assert guard_log.allowed_by("services/processor/retry.py", ["services/processor/*"])
    assert guard_log.allowed_by("services/processor/a/b.py", ["services/processor/"])
    assert not guard_log.allowed_by("services/ledger/x.py", ["services/processor/*"])
