"""The typed journal: every kind has a body, and rows written before bodies were typed load.

``tests/fixtures/journal_before_typed.jsonl`` holds every kind as the code before the typed
journal wrote it (through its actions and its writer, on a fixed clock), one row a line with
the body as the exact text stored; ``.state.json`` beside it is the state that code folded
from those rows, except that an incident now opens at our receipt (the ``incident.opened``
entry's time) and keeps the first signal's own time as ``signal_started_at``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from oncall_tui.core import journal, projection
from oncall_tui.core.clock import from_iso
from oncall_tui.core.journal import (
    STORY_KINDS,
    JournalEntry,
    Kind,
    PushApproved,
    SessionSeen,
    decode,
)
from oncall_tui.core.memory import MemoryTables
from oncall_tui.store.journal import Store

FIXTURE = Path(__file__).parent.parent / "fixtures" / "journal_before_typed.jsonl"


def _legacy_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def _dump(tables: MemoryTables) -> dict[str, Any]:
    return {
        name: {repr(key): _plain(value) for key, value in table.items()}
        for name, table in vars(tables).items()
    }


def _plain(value: Any) -> Any:
    """A model as its JSON; a plain value (a commit, a deploy range) as its journal body."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return json.loads(json.dumps(dataclasses.asdict(value), default=str))


def _compact(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


NEWER_THAN_THE_FIXTURE = frozenset(
    {Kind.NOTE_REJECTED, Kind.NOTE_RETIRED, Kind.TOKEN_CREATED, Kind.TOKEN_REVOKED}
)
"""Kinds added after the typed journal: no row written before it can hold them."""


def test_every_kind_has_a_body_and_the_fixture_holds_every_kind() -> None:
    assert {kind.value for kind in Kind} == set(journal._BY_KIND)
    older = {kind.value for kind in Kind} - NEWER_THAN_THE_FIXTURE
    assert {row["kind"] for row in _legacy_rows()} == older


@pytest.mark.parametrize("row", _legacy_rows(), ids=lambda row: f"{row['seq']}-{row['kind']}")
def test_a_stored_body_decodes_and_encodes_back_to_the_same_text(row: dict[str, Any]) -> None:
    body = decode(row["kind"], json.loads(row["body"]))
    assert body is not None and row["kind"] == body.KIND
    assert _compact(body.to_json()) == row["body"]


def test_a_journal_written_before_bodies_were_typed_folds_to_the_same_state(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "old.db")
    with store.write() as writer:
        writer.conn.executemany(
            "INSERT INTO journal (seq, ts, actor, kind, body) VALUES (?, ?, ?, ?, ?)",
            [(r["seq"], r["ts"], r["actor"], r["kind"], r["body"]) for r in _legacy_rows()],
        )
    folded = MemoryTables()
    projection.fold(store.entries(), folded)
    store.close()
    expected = json.loads(FIXTURE.with_suffix(".state.json").read_text())
    assert _dump(folded) == expected


def test_the_live_projection_of_rewritten_rows_equals_the_fold_of_the_old_ones(
    tmp_path: Path,
) -> None:
    """Appending the decoded bodies again (the typed path) stores the same text, row for row."""
    store = Store.open(tmp_path / "new.db")
    rows = _legacy_rows()
    with store.write() as writer:
        for row in rows:
            body = decode(row["kind"], json.loads(row["body"]))
            assert body is not None
            writer.append(body, row["actor"], from_iso(row["ts"]))
    stored = store.conn.execute("SELECT ts, actor, kind, body FROM journal ORDER BY seq").fetchall()
    store.close()
    assert stored == [(r["ts"], r["actor"], r["kind"], r["body"]) for r in rows]


def test_a_kind_from_a_newer_version_is_kept_but_not_folded() -> None:
    entry = JournalEntry(1, datetime(2026, 1, 1, tzinfo=UTC), "x", "gadget.invented", {"a": 1})
    assert entry.data is None
    tables = MemoryTables()
    projection.apply(entry, tables)
    assert _dump(tables) == _dump(MemoryTables())


def test_optional_keys_are_left_out_as_before() -> None:
    assert PushApproved("P-1", "user:alice").to_json() == {"push_id": "P-1", "by": "user:alice"}
    assert PushApproved("P-1", "policy", "stand-down").to_json()["rule"] == "stand-down"
    assert SessionSeen("s-1").to_json() == {"session_id": "s-1"}
    assert SessionSeen("s-1", [], task="t").to_json() == {
        "session_id": "s-1",
        "paths": [],
        "task": "t",
    }


def test_kind_sets_are_drawn_from_the_enum() -> None:
    assert all(kind.family == "push" for kind in journal.PUSH_KINDS)
    assert len(journal.PUSH_KINDS) == 6
    assert Kind.DELIVERY_ACCEPTED not in STORY_KINDS
    assert set(Kind) >= journal.CHANGING_NO_FILES
