"""The incidents pane: severity, service, state, age and signal rate, worst first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from oncall_tui.core.clock import age
from oncall_tui.core.models import Incident
from oncall_tui.tui.format import cell, colored, short, sparkline
from oncall_tui.tui.widgets.synced_table import Row, SyncedTable


class IncidentTable(SyncedTable):
    COLUMNS = (
        ("severity", "Sev", 4),
        ("id", "ID", 7),
        ("service", "Service", 16),
        ("state", "State", 5),
        ("age", "Age", 4),
        ("rate", "Rate 1h", 12),
        ("title", "Title", 60),
    )


def incident_rows(
    incidents: list[Incident],
    rates: Mapping[str, list[int]],
    now: datetime,
    palette: Mapping[str, str],
) -> list[Row]:
    return [
        (
            i.id,
            (
                colored(short(i.severity.value), palette, f"sev-{i.severity.value}", bold=True),
                cell(i.id),
                cell(i.service or "-", limit=40),
                colored(short(i.state.value), palette, f"state-{i.state.value}"),
                cell(age(i.opened_at, now)),
                colored(sparkline(rates.get(i.id, [])), palette, f"sev-{i.severity.value}"),
                cell(i.title, limit=160),
            ),
        )
        for i in incidents
    ]
