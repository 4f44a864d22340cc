"""The header line: the counts that matter at 3 a.m., whether the pipeline is alive, and where
the receiver and files are; fitted to the width by importance (see :mod:`tui.header_fit`)."""

from __future__ import annotations

from pathlib import PurePath

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from oncall_tui.core.health import PipelineHealth
from oncall_tui.core.plural import counted
from oncall_tui.core.sanitize import display_text
from oncall_tui.store.dashboard import Counts
from oncall_tui.tui.header_fit import SEPARATOR, Part, fit

UNLIMITED = 10_000


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """
    COMPONENT_CLASSES = {"status-bar--warning", "status-bar--silent"}
    """Marks that ask for a look (hook errors, nobody exporting) and a silent source, styled
    in ``app.tcss``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.counts: Counts | None = None
        self.receiver = "receiver off"
        self.export_dir = ""
        self.health: PipelineHealth | None = None
        self._shown: str | None = None

    def show(
        self,
        counts: Counts | None = None,
        *,
        receiver: str | None = None,
        export_dir: str | None = None,
        health: PipelineHealth | None = None,
    ) -> None:
        """Update what is given, keep the rest; repaint only when the line would change."""
        self.counts = counts or self.counts
        self.health = health or self.health
        self.receiver = receiver if receiver is not None else self.receiver
        self.export_dir = export_dir if export_dir is not None else self.export_dir
        line = self._text().plain
        if line != self._shown:
            self._shown = line
            self.refresh()

    def on_resize(self) -> None:
        self.refresh()

    def render(self) -> Text:
        return self._text(self.size.width or UNLIMITED)

    def _text(self, width: int = UNLIMITED) -> Text:
        text = Text(no_wrap=True, overflow="ignore")
        for index, (part, shown) in enumerate(fit(self._parts(), width)):
            if index:
                text.append(SEPARATOR)
            text.append(shown, style=part.style)
        return text

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _parts(self) -> list[Part]:
        parts: list[Part] = []
        c = self.counts
        if c is not None:
            parts += [
                Part(
                    counted(c.active_incidents, "active incident"),
                    f"{c.active_incidents} active",
                    100,
                    "bold" if c.active_incidents else "",
                    keep=True,
                ),
                Part(
                    counted(c.affected_sessions, "affected session"),
                    f"{c.affected_sessions} affected",
                    40,
                ),
                Part(
                    counted(c.pending_pushes, "pending push"),
                    f"{c.pending_pushes} pending",
                    95,
                    "bold" if c.pending_pushes else "",
                    keep=True,
                ),
                Part(
                    counted(c.rejected_deliveries, "rejected delivery"),
                    f"{c.rejected_deliveries} rejected",
                    45 if c.rejected_deliveries else 15,
                ),
            ]
        if self.health is not None:
            parts += self._health_parts(self.health)
        parts.append(Part(self.receiver, _short_receiver(self.receiver), 80, keep=True))
        if self.export_dir:
            # The directory is ours to name but may sit under a user's odd home path.
            where = display_text(self.export_dir, 200)
            tail = PurePath(where).name or where
            parts.append(Part(f"context → {where}", f"→ …/{tail}", 78, keep=True))
        return parts

    def _health_parts(self, health: PipelineHealth) -> list[Part]:
        parts = []
        for source in health.sources:
            label = f"{source.name} {source.age_label(health.now)}"
            if source.silent:
                parts.append(Part(label, label, 90, self._style("status-bar--silent")))
            else:
                parts.append(Part(label, label, 60 if source.configured else 25))
        parts.append(Part(f"policy: {health.policy_mode}", health.policy_mode, 58))
        if health.exporter is not None:
            program = health.exporter.program
            parts.append(Part(f"export: {health.exporter.label}", f"export: {program}", 35))
        elif health.unexported:
            parts.append(Part("export: none", "no export", 88, self._style("status-bar--warning")))
        else:
            parts.append(Part("export: none", "no export", 30))
        parts.append(
            Part(
                f"backlog {health.backlog}",
                f"backlog {health.backlog}",
                70 if health.backlog else 20,
            )
        )
        if health.agent_errors:
            parts.append(
                Part(
                    f"hook errors: {health.agent_errors} (24h)",
                    f"hook errors {health.agent_errors}",
                    86,
                    self._style("status-bar--warning"),
                )
            )
        return parts


def _short_receiver(state: str) -> str:
    """``receiving on 127.0.0.1:9977`` → ``receiving :9977``; other states are short already."""
    head, sep, address = state.rpartition(" on ")
    if not sep:
        return state
    return f"{head} :{address.rpartition(':')[2]}"
