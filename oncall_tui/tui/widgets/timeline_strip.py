"""The replay's time axis: a bar across the incident with its milestones and the cursor on it.

One line shows where in the story the cursor stands relative to what mattered (opened, first
agent told, resolved); the milestone list under it names them, the one passed last in bold, so
``[`` and ``]`` have visible targets. Colours come from the component classes in app.tcss.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from oncall_tui.core.sanitize import display_text
from oncall_tui.tui.replay_loader import Mark

BAR = "─"
MARK = "◆"
CURSOR = "┃"


class TimelineStrip(Widget):
    COMPONENT_CLASSES = {
        "timeline-strip--bar",
        "timeline-strip--mark",
        "timeline-strip--cursor",
        "timeline-strip--passed",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._start: datetime | None = None
        self._end: datetime | None = None
        self._marks: list[Mark] = []
        self._index = 0
        self._at: datetime | None = None

    def show(
        self, start: datetime, end: datetime, marks: list[Mark], index: int, at: datetime
    ) -> None:
        self._start, self._end, self._marks, self._index, self._at = start, end, marks, index, at
        self.refresh(layout=True)

    def _column(self, when: datetime, width: int) -> int:
        assert self._start is not None and self._end is not None
        span = (self._end - self._start).total_seconds()
        if span <= 0 or width <= 1:
            return 0
        share = (when - self._start).total_seconds() / span
        return min(max(round(share * (width - 1)), 0), width - 1)

    def bar(self, width: int) -> Text:
        """The axis, the milestone marks on it, and the cursor (drawn over a mark it sits on)."""
        if self._start is None or self._at is None or width <= 0:
            return Text("")
        cells = [BAR] * width
        styles = ["timeline-strip--bar"] * width
        for mark in self._marks:
            column = self._column(mark.ts, width)
            cells[column], styles[column] = MARK, "timeline-strip--mark"
        column = self._column(self._at, width)
        cells[column], styles[column] = CURSOR, "timeline-strip--cursor"
        text = Text(no_wrap=True)
        for char, style in zip(cells, styles, strict=True):
            text.append(char, self.get_component_rich_style(style, partial=True))
        return text

    def milestones(self) -> Text:
        """Every milestone, ``HH:MM:SS name``; those at or before the cursor are highlighted."""
        text = Text()
        passed = self.get_component_rich_style("timeline-strip--passed", partial=True)
        for number, mark in enumerate(self._marks):
            if number:
                text.append(" · ")
            style = passed if mark.index <= self._index else ""
            text.append(f"{MARK} {mark.ts:%H:%M:%S} {display_text(mark.name, 40)}", style)
        return text

    def render(self) -> Text:
        text = self.bar(self.content_size.width)
        text.append("\n")
        text.append_text(self.milestones())
        return text
