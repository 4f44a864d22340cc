"""One incident in full: signals, suspect changes, blast radius, links and notes."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from oncall_tui.core.opened import first_signal_note
from oncall_tui.core.regression_text import evidence_lines
from oncall_tui.core.sanitize import display_text
from oncall_tui.tui.format import plain
from oncall_tui.tui.loader import IncidentDetail, load_incident_detail
from oncall_tui.tui.messages import DetailLoaded
from oncall_tui.tui.services import DashboardServices


def render_incident(detail: IncidentDetail, palette: dict[str, str]) -> Text:
    i = detail.incident
    text = Text()
    text.append(f"{i.id}  ", style="bold")
    text.append(display_text(i.title), style="bold")
    text.append("\n")
    text.append(f"{i.severity.value}", style=f"bold {palette.get(f'sev-{i.severity.value}', '')}")
    text.append(f" · {i.state.value}", style=palette.get(f"state-{i.state.value}", ""))
    signal_said = first_signal_note(i.opened_at, i.signal_started_at)
    text.append(
        f" · opened {i.opened_at:%Y-%m-%d %H:%M:%S} UTC"
        + (f" ({signal_said})" if signal_said else "")
        + f" · {i.signal_count} signals from {display_text(', '.join(i.sources))}\n"
    )
    for label, when in (
        ("acknowledged", i.acknowledged_at),
        ("mitigated", i.mitigated_at),
        ("resolved", i.resolved_at),
    ):
        if when:
            text.append(f"{label} {when:%H:%M:%S} UTC\n")
    if i.deploy_freeze:
        text.append("deploy freeze declared\n", style=f"bold {palette.get('sev-critical', '')}")
    _section(text, "Affected services (dependency path)")
    for path in sorted(detail.radius.values(), key=lambda p: (len(p), p)):
        text.append(f"  {display_text(' → '.join(path))}\n")
    _section(text, "Suspect changes")
    if not detail.changes:
        text.append("  none linked\n")
    for link, change in detail.changes:
        s = change.signal
        text.append(
            f"  {s.occurred_at:%H:%M:%S} {link.relation:<8} {s.kind.value:<8} {display_text(s.title, 160)}\n"
        )
    if detail.agent_assisted is not None:
        _section(text, "Agent-assisted")
        for line in evidence_lines(detail.agent_assisted):
            text.append(f"  {line}\n")
    _section(text, "Signals")
    for stored in detail.signals:
        s = stored.signal
        text.append(
            f"  {s.occurred_at:%H:%M:%S} {display_text(s.source, 40):<12} {s.status.value:<12} "
        )
        text.append(display_text(s.title, 160) + "\n")
        if s.text:
            text.append(f"      {display_text(s.text, 300)}\n", style="dim")
    _section(text, "Links")
    for url in i.links:
        text.append(f"  {display_text(url.text or 'link', 40)}: {display_text(url.href, 200)}\n")
    _section(text, "Notes")
    if not detail.notes:
        text.append("  none (n adds one)\n")
    for note in detail.notes:
        text.append(
            f"  [{note.kind.value}] {display_text(note.service or note.incident_id or '')}: "
        )
        text.append(display_text(note.text, 400) + "\n")
        if note.rationale:
            text.append(f"      why: {display_text(note.rationale, 300)}\n", style="dim")
    return text


def _section(text: Text, title: str) -> None:
    text.append(f"\n{title}\n", style="bold underline")


class IncidentDetailScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="back")]

    def __init__(self, services: DashboardServices, incident_id: str) -> None:
        super().__init__()
        self.services = services
        self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static("loading…", id="body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail").border_title = plain(f"Incident {self.incident_id}", None)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        try:
            detail = load_incident_detail(self.services.loader, self.incident_id)
        except LookupError as exc:
            self.post_message(DetailLoaded(Text(display_text(exc, 300))))
            return
        palette = dict(self.app.theme_variables)
        self.post_message(DetailLoaded(render_incident(detail, palette)))

    @on(DetailLoaded)
    def _paint_body(self, message: DetailLoaded) -> None:
        self.query_one("#body", Static).update(message.body)
