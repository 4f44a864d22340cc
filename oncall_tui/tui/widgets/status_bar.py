"""The header line: the counts that matter at 3 a.m., and where the receiver and files are."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from oncall_tui.store.dashboard import Counts


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """
    COMPONENT_CLASSES = {"status-bar--warning"}
    """The style of a mark that asks for a look (the hooks' errors), set in ``app.tcss``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.counts: Counts | None = None
        self.receiver = "receiver off"
        self.export_dir = ""
        self.agent_errors = 0

    def show(
        self,
        counts: Counts | None = None,
        *,
        receiver: str | None = None,
        export_dir: str | None = None,
        agent_errors: int | None = None,
    ) -> None:
        self.counts = counts or self.counts
        self.agent_errors = agent_errors if agent_errors is not None else self.agent_errors
        self.receiver = receiver if receiver is not None else self.receiver
        self.export_dir = export_dir if export_dir is not None else self.export_dir
        self.update(self._text())

    def _text(self) -> Text:
        c = self.counts
        text = Text()
        if c is not None:
            text.append(
                f" {c.active_incidents} active incidents",
                style="bold" if c.active_incidents else "",
            )
            text.append(f" · {c.affected_sessions} affected sessions")
            text.append(
                f" · {c.pending_pushes} pending pushes", style="bold" if c.pending_pushes else ""
            )
            text.append(f" · {c.rejected_deliveries} rejected deliveries")
        text.append(f" · {self.receiver}")
        if self.agent_errors:
            warning = self.get_component_rich_style("status-bar--warning", partial=True)
            text.append(" · ")
            text.append(f"hook errors: {self.agent_errors} (24h)", style=warning)
        if self.export_dir:
            text.append(f" · context → {self.export_dir}")
        return text
