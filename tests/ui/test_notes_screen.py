"""The notes screen: order, a proposal's diff shown literally, accept and reject from the keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from oncall_tui.config import Settings
from oncall_tui.core.agents import Note
from oncall_tui.tui.screens.notes import NotesScreen
from oncall_tui.tui.widgets.note_review import NoteReview
from oncall_tui.tui.widgets.note_table import NoteTable
from tests.ui.conftest import build_app, seed, settle
from tests.ui.notes_seed import seed_notes


def seeded_with_notes(tmp_path: Path) -> Settings:
    settings = seed(tmp_path)
    seed_notes(settings)
    return settings


def stored_note(settings: Settings, note_id: str) -> Note:
    row = (
        sqlite3.connect(settings.db)
        .execute("SELECT data FROM notes WHERE id = ?", (note_id,))
        .fetchone()
    )
    return Note.model_validate_json(row[0])


async def open_notes(pilot) -> NotesScreen:  # type: ignore[no-untyped-def]
    await settle(pilot, paint_s=0.05)
    await pilot.press("N")
    await settle(pilot, paint_s=0.05)
    screen = pilot.app.screen
    assert isinstance(screen, NotesScreen)
    return screen


async def test_pending_first_then_stale_then_the_rest(tmp_path: Path) -> None:
    app = build_app(seeded_with_notes(tmp_path), tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_notes(pilot)
        table = screen.query_one(NoteTable)
        # The note a proposal would replace stays current until the proposal is accepted.
        assert table.row_keys_in_order == ["N-4", "N-5", "N-2", "N-1", "N-3"]
        assert str(table.cell_of("N-4", "state")) == "proposal"
        assert str(table.cell_of("N-2", "state")) == "stale"
        review = str(screen.query_one(NoteReview).render())
        assert "Replaces N-1:" in review
        assert "+Raised to 3 s after the processor's 2026-11 change; do not remove it." in review
        assert "-Do not remove it." in review


async def test_agent_text_is_shown_as_written_never_as_markup(tmp_path: Path) -> None:
    app = build_app(seeded_with_notes(tmp_path), tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_notes(pilot)
        await pilot.press("down")
        await settle(pilot, paint_s=0.05)
        review = str(screen.query_one(NoteReview).render())
        assert "[bold red]Retries[/] double-charge" in review


async def test_accept_a_pending_agent_note_from_the_screen(tmp_path: Path) -> None:
    settings = seeded_with_notes(tmp_path)
    app = build_app(settings, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_notes(pilot)
        await pilot.press("a")
        await settle(pilot, paint_s=0.05)
        assert stored_note(settings, "N-4").accepted
        # Accepted, it is no longer pending: the new agent note is first now.
        assert screen.query_one(NoteTable).row_keys_in_order[0] == "N-5"
    actor = (
        sqlite3.connect(settings.db)
        .execute("SELECT actor FROM journal WHERE kind = 'note.accepted' ORDER BY seq DESC LIMIT 1")
        .fetchone()[0]
    )
    assert actor.startswith("user:")


async def test_reject_needs_a_reason_and_journals_it(tmp_path: Path) -> None:
    settings = seeded_with_notes(tmp_path)
    app = build_app(settings, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_notes(pilot)
        await pilot.press("down", "r")
        await settle(pilot, paint_s=0.05)
        await pilot.press("enter")
        await settle(pilot, paint_s=0.05)
        assert type(app.screen).__name__ == "RejectModal", "an empty reason keeps the dialog open"
        await pilot.press(*"not reproducible", "enter")
        await settle(pilot, paint_s=0.05)
    note = stored_note(settings, "N-5")
    assert note.rejected and not note.accepted
    assert note.closed_reason == "not reproducible"


async def test_a_current_note_cannot_be_accepted(tmp_path: Path) -> None:
    settings = seeded_with_notes(tmp_path)
    app = build_app(settings, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_notes(pilot)
        await pilot.press("down", "down", "r")
        await settle(pilot, paint_s=0.05)
        assert isinstance(app.screen, NotesScreen), "no dialog for a note that is not pending"
