"""The header shows the pipeline's health, a silent source in red, and fits 80 columns whole."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rich.style import Style

from oncall_tui.config import HealthSettings, Settings, SourceSettings
from oncall_tui.core.clock import FixedClock
from oncall_tui.tui.app import OncallApp
from oncall_tui.tui.widgets.status_bar import StatusBar
from tests.ui.conftest import NOW, build_app, settle

LATER = NOW + timedelta(minutes=2)


def configured(seeded: Settings) -> Settings:
    """The demo story with two sources named. Both delivered as the story was seeded; read two
    minutes later (:data:`LATER`), alertmanager's 30 s threshold makes it silent."""
    return seeded.model_copy(
        update={
            "sources": {
                "alertmanager": SourceSettings(silence_s=30),
                "pagerduty": SourceSettings(),
            },
            "health": HealthSettings(silence_s=900),
        }
    )


def header(app: OncallApp) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_wide_header_names_every_fact(seeded: Settings, tmp_path: Path) -> None:
    app = build_app(configured(seeded), tmp_path, clock=FixedClock(LATER))
    async with app.run_test(size=(200, 48)) as pilot:
        await settle(pilot, paint_s=0.1)
        line = header(app)
        for fact in (
            "active incident",
            "pending push",
            "alertmanager ",
            "pagerduty 2m",
            "github 2m",
            "approve",
            "export: none",
            "backlog 0",
            "receiver off",
            "context → /tmp/oncall-demo/context",
        ):
            assert fact in line, (fact, line)


async def test_the_silent_source_is_marked_in_the_error_colour(
    seeded: Settings, tmp_path: Path
) -> None:
    app = build_app(configured(seeded), tmp_path, clock=FixedClock(LATER))
    async with app.run_test(size=(200, 48)) as pilot:
        await settle(pilot, paint_s=0.1)
        text = app.screen.query_one(StatusBar).render()
        [mark] = [s for s in text.spans if text.plain[s.start : s.end].startswith("alertmanager")]
        style = mark.style if isinstance(mark.style, Style) else Style.parse(mark.style)
        assert style.color is not None and style.color.triplet is not None
        assert style.color.triplet.hex.lower() == app.theme_variables["error"].lower()[:7]
        # Within its threshold (900 s), or not configured at all: shown, not marked.
        assert not any(
            text.plain[s.start : s.end].startswith(("pagerduty", "github")) for s in text.spans
        )


async def test_at_80_columns_the_header_fits_whole_and_keeps_what_matters(
    seeded: Settings, tmp_path: Path
) -> None:
    app = build_app(configured(seeded), tmp_path, clock=FixedClock(LATER))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, paint_s=0.1)
        bar = app.screen.query_one(StatusBar)
        line = header(app)
        assert len(line) <= bar.size.width, line
        assert "active" in line and "pending" in line
        assert "alertmanager" in line  # silent: among the last to go
        assert "receiver off" in line and "→ …/context" in line
        forms = {form for part in bar._parts() for form in (part.long, part.short)}
        assert all(piece in forms for piece in line.split(" · "))  # whole forms, never cut
