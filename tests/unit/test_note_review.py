"""Review order and proposal diffs (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from oncall_tui.core.agents import Note, NoteKind
from oncall_tui.core.note_review import ReviewGroup, proposal_diff, review_items

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def note(number: int, text: str = "t", **fields: object) -> Note:
    base: dict[str, object] = {
        "id": f"N-{number}",
        "number": number,
        "service": "payments-api",
        "kind": NoteKind.DECISION,
        "text": text,
        "author": "user:alice",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Note.model_validate({**base, **fields})


def test_pending_then_stale_then_current_and_history_left_out() -> None:
    notes = [
        note(1),
        note(2, superseded_by="N-9"),
        note(3, agent_authored=True, accepted=False),
        note(4),
        note(5, agent_authored=True, accepted=False, rejected=True),
    ]
    items = review_items(notes, {"N-4": ["review was due 2026-11-22"]})
    assert [(i.note.id, i.group) for i in items] == [
        ("N-3", ReviewGroup.PENDING),
        ("N-4", ReviewGroup.STALE),
        ("N-1", ReviewGroup.CURRENT),
    ]
    assert items[1].stale_reasons == ("review was due 2026-11-22",)


def test_a_proposal_names_the_note_it_replaces() -> None:
    old = note(1, "keep the 2 s timeout")
    proposal = note(
        2, "keep the 3 s timeout", agent_authored=True, accepted=False, supersedes="N-1"
    )
    [item, _] = review_items([old, proposal], {})
    assert item.replaces == old


def test_the_diff_covers_text_and_rationale_without_file_headers() -> None:
    old = note(1, "line one\nkeep 2 s", rationale="breaker")
    new = note(2, "line one\nkeep 3 s", rationale="breaker")
    lines = proposal_diff(old, new)
    assert lines[0].startswith("@@")
    assert "-keep 2 s" in lines and "+keep 3 s" in lines
    assert " why: breaker" in lines
    assert not any(line.startswith(("---", "+++")) for line in lines)
