"""Every dashboard action through the keyboard, checked in the journal and the projection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from oncall_tui.config import Settings
from oncall_tui.tui.app import OncallApp
from tests.ui.conftest import settle


def db(settings: Settings) -> sqlite3.Connection:
    return sqlite3.connect(settings.db)


def push_state(settings: Settings, push_id: str) -> str:
    return str(
        db(settings).execute("SELECT state FROM pushes WHERE id = ?", (push_id,)).fetchone()[0]
    )


async def focus_pushes(pilot) -> str:  # type: ignore[no-untyped-def]
    await settle(pilot)
    table = pilot.app.screen.query_one("#pushes")
    table.focus()
    await settle(pilot)
    key = table.current_key
    assert key is not None
    return str(key)


def journal_kinds(settings: Settings) -> list[str]:
    return [r[0] for r in db(settings).execute("SELECT kind FROM journal ORDER BY seq")]


async def test_approve(make_app, seeded: Settings) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        push_id = await focus_pushes(pilot)
        await pilot.press("a")
        await settle(pilot)
    assert push_state(seeded, push_id) == "approved"
    row = (
        db(seeded)
        .execute("SELECT actor FROM journal WHERE kind = 'push.approved' ORDER BY seq DESC LIMIT 1")
        .fetchone()
    )
    assert row[0].startswith("user:")


async def test_reject_needs_a_reason(make_app, seeded: Settings) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        push_id = await focus_pushes(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "RejectModal", "an empty reason keeps the dialog open"
        await pilot.press(*"wrong service")
        await pilot.press("enter")
        await settle(pilot)
    assert push_state(seeded, push_id) == "rejected"
    reason = (
        db(seeded)
        .execute(
            "SELECT json_extract(data, '$.reject_reason') FROM pushes WHERE id = ?", (push_id,)
        )
        .fetchone()[0]
    )
    assert reason == "wrong service"


async def test_edit_saves_a_new_version(make_app, seeded: Settings) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        push_id = await focus_pushes(pilot)
        await pilot.press("e")
        await settle(pilot)
        area = app.screen.query_one("TextArea")
        area.text = "Do not touch the retry budget until INC-1 is resolved."
        await pilot.press("ctrl+s")
        await settle(pilot)
    rows = (
        db(seeded)
        .execute(
            "SELECT id, state, json_extract(data, '$.guidance'), json_extract(data, '$.supersedes') FROM pushes"
            " ORDER BY number DESC LIMIT 1"
        )
        .fetchone()
    )
    assert rows[1] == "pending"
    assert rows[2] == "Do not touch the retry budget until INC-1 is resolved."
    assert rows[3] == push_id
    assert push_state(seeded, push_id) == "superseded"


async def test_broadcast_shows_the_audience_and_sends(make_app, seeded: Settings) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert "to 5 sessions" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press(*"Deploy freeze on payments until further notice")
        await pilot.press("enter")
        await settle(pilot)
    row = (
        db(seeded)
        .execute(
            "SELECT state, json_extract(data, '$.recipients'), json_extract(data, '$.guidance') FROM pushes"
            " WHERE kind = 'broadcast'"
        )
        .fetchone()
    )
    assert row[0] == "approved"
    assert len(__import__("json").loads(row[1])) == 5
    assert row[2] == "Deploy freeze on payments until further notice"


async def test_incident_actions(make_app, seeded: Settings) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert (
            db(seeded).execute("SELECT state FROM incidents WHERE id = 'INC-1'").fetchone()[0]
            == "mitigated"
        )
        await pilot.press("R")
        await settle(pilot)
        assert (
            db(seeded).execute("SELECT state FROM incidents WHERE id = 'INC-1'").fetchone()[0]
            == "resolved"
        )
        await pilot.press("A")
        await settle(pilot)
        assert any("cannot become acknowledged" in n.message for n in app._notifications)
    # Resolving proposes stand-downs; the demo policy approves them, and pending updates expire.
    states = dict(
        db(seeded).execute(
            "SELECT kind, count(*) FROM pushes WHERE state = 'approved' GROUP BY kind"
        )
    )
    assert states.get("stand-down", 0) >= 1


async def test_note(make_app, seeded: Settings) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"The 2 s timeout is the breaker")
        await pilot.press("enter")
        await settle(pilot)
    row = db(seeded).execute("SELECT service, json_extract(data, '$.text') FROM notes").fetchone()
    assert row == ("payment-processor", "The 2 s timeout is the breaker")


async def test_filter_and_show_all(make_app, seeded: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#incidents")
        assert table.row_count == 1
        await pilot.press("slash", *"checkout", "enter")
        await settle(pilot)
        assert table.row_count == 0
        await pilot.press("slash")
        app.screen.query_one("#filter").value = "sev:critical"
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 1
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.view.incident_id is None
        assert app.screen.query_one("#sessions").row_count == 5, "all open sessions"


async def test_help_lists_our_bindings(make_app) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        shown = str(app.screen.query_one("Static").render())
        for words in ("Approve", "Reject", "Broadcast", "Filter", "Quit"):
            assert words in shown
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "MainScreen"


async def test_keymap_from_config(seeded: Settings, tmp_path: Path) -> None:
    from tests.ui.conftest import build_app

    remapped = seeded.model_copy(
        update={"ui": seeded.ui.model_copy(update={"keymap": {"approve": "y"}})}
    )
    app = build_app(remapped, tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        push_id = await focus_pushes(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert push_state(seeded, push_id) == "approved"


async def test_palette_offers_the_actions_and_the_theme_is_remembered(
    make_app, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from oncall_tui.tui import themes

    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("Approve", "Reject", "Broadcast", "Filter"):
            assert title in titles
        app.theme = "oncall-night"
        await settle(pilot)
    assert themes.remembered_theme(tmp_path / "ui.toml") == "oncall-night"


def deploy_freeze(settings: Settings) -> int:
    return int(
        db(settings)
        .execute("SELECT json_extract(data, '$.deploy_freeze') FROM incidents")
        .fetchone()[0]
    )


async def test_deploy_freeze_toggles(make_app, seeded: Settings) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
        assert deploy_freeze(seeded) == 1
        await pilot.press("F")
        await settle(pilot)
    assert deploy_freeze(seeded) == 0
