"""``notes list`` says which notes were rejected or retired, in text and in JSON."""

from __future__ import annotations

import json
from pathlib import Path

from oncall_tui.actions.notes import add_note, reject_note, retire_note
from oncall_tui.core.agents import NoteKind
from tests.integration.test_memory import _cli, _store


def test_list_marks_rejected_and_retired_notes(tmp_path: Path) -> None:
    db = tmp_path / "oncall.db"
    store = _store(db)
    try:
        for text in ("Kept.", "Wrong.", "Outdated."):
            add_note(
                store,
                author="agent:s1",
                kind=NoteKind.WARNING,
                service="payment-processor",
                text=text,
                agent_authored=text != "Outdated.",
            )
        reject_note(store, "N-2", "alice", "not reproducible")
        retire_note(store, "N-3", "alice")
    finally:
        store.close()
    code, out = _cli(db, "notes", "list")
    assert code == 0
    assert "[agent note awaiting review]" in out
    assert "[REJECTED: not reproducible]" in out and "[RETIRED]" in out
    code, out = _cli(db, "notes", "list", "--json")
    assert code == 0
    fields = [(n["id"], n["rejected"], n["retired"], n["closed_reason"]) for n in json.loads(out)]
    assert fields == [
        ("N-1", False, False, ""),
        ("N-2", True, False, "not reproducible"),
        ("N-3", False, True, ""),
    ]
