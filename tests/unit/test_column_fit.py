"""Column widths fitted to a pane: what matters keeps its width, nothing scrolls sideways."""

from __future__ import annotations

from oncall_tui.tui.column_fit import ColumnSpec, fit_columns

SPECS = (
    ColumnSpec("severity", "Sev", 4, 4),
    ColumnSpec("id", "ID", 5, 12),
    ColumnSpec("service", "Service", 8, 60, priority=1),
    ColumnSpec("title", "Title", 10, 160, priority=1, grows=True),
    ColumnSpec("age", "Age", 3, 5, priority=3),
    ColumnSpec("rate", "Rate 1h", 12, 12, priority=4),
)
CONTENT = [4, 5, 45, 120, 3, 12]
"""A long service name and a long title, as a sender may write them."""


def used(widths: tuple[int, ...], padding: int = 1) -> int:
    return sum(w + 2 * padding for w in widths)


def test_wide_pane_shows_everything_in_full_and_gives_the_rest_to_the_title() -> None:
    fit = fit_columns(SPECS, CONTENT, 240)
    assert fit.shown == (0, 1, 2, 3, 4, 5)
    assert fit.widths[:3] == (4, 5, 45)
    assert fit.widths[3] >= 120
    assert used(fit.widths) == 240


def test_age_and_rate_give_way_before_service_and_title() -> None:
    fit = fit_columns(SPECS, CONTENT, 100)
    shown = [SPECS[i].key for i in fit.shown]
    assert "severity" in shown and "id" in shown and "service" in shown and "title" in shown
    widths = dict(zip(shown, fit.widths, strict=True))
    assert widths["service"] >= SPECS[2].min_width
    assert used(fit.widths) <= 100
    if "age" in widths:
        assert widths["age"] == SPECS[4].min_width


def test_service_and_title_share_the_shortfall() -> None:
    fit = fit_columns(SPECS, CONTENT, 78)
    widths = dict(zip([SPECS[i].key for i in fit.shown], fit.widths, strict=True))
    assert used(fit.widths) <= 78
    # Neither is starved while the other keeps its full length.
    assert abs(widths["service"] - widths["title"]) <= 1 or widths["service"] == 45


def test_a_pane_too_narrow_for_every_column_drops_the_least_important() -> None:
    fit = fit_columns(SPECS, CONTENT, 40)
    shown = [SPECS[i].key for i in fit.shown]
    assert "rate" not in shown
    assert shown[:2] == ["severity", "id"]
    assert used(fit.widths) <= 40


def test_short_content_keeps_columns_narrow() -> None:
    fit = fit_columns(SPECS, [4, 5, 3, 5, 2, 12], 200)
    widths = dict(zip([SPECS[i].key for i in fit.shown], fit.widths, strict=True))
    assert widths["service"] == max(len("Service"), SPECS[2].min_width)
    assert widths["age"] == SPECS[4].min_width


def test_nothing_fits_in_no_width() -> None:
    assert fit_columns(SPECS, CONTENT, 0).shown == ()
