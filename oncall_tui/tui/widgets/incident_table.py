"""The incidents pane: severity, id, service, state, title, age and signal rate, worst first."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from rich.style import Style
from rich.text import Text

from oncall_tui.core.clock import age
from oncall_tui.core.models import Incident, IncidentState
from oncall_tui.tui.column_fit import ColumnSpec
from oncall_tui.tui.format import cell, colored, short, sparkline
from oncall_tui.tui.widgets.synced_table import Row, SyncedTable

AGENT_TAG = "agent"
"""Before the title of an incident whose suspect deploy carried an agent's commits."""


class IncidentTable(SyncedTable):
    COMPONENT_CLASSES = {"incident-table--resolved", "incident-table--agent"}
    """How a recently resolved incident is drawn while it stays in view, and the marker of an
    agent-assisted one (``app.tcss``)."""

    # Which incident, how bad and what it says keep their width; age and rate give way.
    COLUMNS = (
        ColumnSpec("severity", "Sev", 4, 4),
        ColumnSpec("id", "ID", 5, 12),
        ColumnSpec("service", "Service", 8, 60, priority=1, keep_width=24),
        ColumnSpec("state", "State", 5, 5, priority=2),
        ColumnSpec("title", "Title", 10, 160, priority=1, grows=True, keep_width=30),
        ColumnSpec("age", "Age", 3, 5, priority=3),
        ColumnSpec("rate", "Rate 1h", 12, 12, priority=4),
    )

    @property
    def resolved_style(self) -> Style:
        """The style that marks a resolved row, from the theme's stylesheet."""
        return self.get_component_rich_style("incident-table--resolved", partial=True)

    @property
    def agent_style(self) -> Style:
        """The style of the ``agent`` tag before an agent-assisted incident's title."""
        return self.get_component_rich_style("incident-table--agent", partial=True)


def incident_rows(
    incidents: list[Incident],
    rates: Mapping[str, list[int]],
    now: datetime,
    palette: Mapping[str, str],
    resolved_style: Style | str = "dim",
    agent_assisted: Collection[str] = (),
    agent_style: Style | str = "bold",
) -> list[Row]:
    """One row per incident; a resolved one (kept in view for a while) drawn in ``resolved_style``.

    An incident in ``agent_assisted`` (a suspect deploy shipped an agent's commit) has its title
    prefixed with an ``agent`` tag: in the title cell, so the marker survives any column layout.
    """
    rows: list[Row] = []
    for i in incidents:
        title = cell(i.title, limit=160)
        if i.id in agent_assisted:
            title = Text.assemble(
                (AGENT_TAG, agent_style), " ", title, no_wrap=True, overflow="ellipsis"
            )
        cells = (
            colored(short(i.severity.value), palette, f"sev-{i.severity.value}", bold=True),
            cell(i.id),
            cell(i.service or "-", limit=60),
            colored(short(i.state.value), palette, f"state-{i.state.value}"),
            title,
            cell(age(i.opened_at, now)),
            colored(sparkline(rates.get(i.id, [])), palette, f"sev-{i.severity.value}"),
        )
        if i.state is IncidentState.RESOLVED:
            for text in cells:
                text.stylize(resolved_style)
        rows.append((i.id, cells))
    return rows
