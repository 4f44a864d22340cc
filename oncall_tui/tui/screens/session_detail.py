"""One agent session: where it works, what it touched, what it was told and when."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from oncall_tui.core.sanitize import display_text
from oncall_tui.tui.format import plain
from oncall_tui.tui.loader import SessionDetail, load_session_detail
from oncall_tui.tui.messages import DetailLoaded
from oncall_tui.tui.services import DashboardServices


def render_session(detail: SessionDetail, palette: dict[str, str]) -> Text:
    s = detail.session
    text = Text()
    text.append(f"{display_text(s.id)}  ", style="bold")
    text.append(f"{s.agent.value} · {display_text(s.repo or s.cwd or '-')}")
    if s.branch:
        text.append(f" @{display_text(s.branch)}")
    text.append("\n")
    if s.task:
        text.append(f"working on: {display_text(s.task)}\n")
    text.append(
        f"first seen {s.first_seen:%Y-%m-%d %H:%M:%S} · last seen {s.last_seen:%H:%M:%S} UTC"
    )
    if s.last_context_at:
        text.append(f" · last context {s.last_context_at:%H:%M:%S} UTC")
    text.append("\n")
    text.append("\nTouched paths\n", style="bold underline")
    for path in reversed(s.paths):
        text.append(f"  {display_text(path)}\n")
    if not s.paths:
        text.append("  none reported yet\n")
    text.append("\nPushes\n", style="bold underline")
    for p in detail.pushes:
        text.append(f"  {p.id:<7} ")
        text.append(f"{p.state.value:<12}", style=palette.get(f"push-{p.state.value}", ""))
        text.append(f" {p.kind.value:<10} {p.incident_id:<8} proposed {p.proposed_at:%H:%M:%S}")
        if p.decided_by:
            text.append(
                f" · {p.state.value if p.state.value == 'rejected' else 'approved'} by {display_text(p.decided_by)}"
            )
        if p.delivered_at:
            text.append(f" · delivered {p.delivered_at:%H:%M:%S} via {', '.join(p.delivered_via)}")
        if p.acknowledged_at:
            text.append(f" · acknowledged {p.acknowledged_at:%H:%M:%S}")
        text.append("\n")
        text.append(f"          {display_text(p.reason, 200)}\n", style="dim")
    if not detail.pushes:
        text.append("  none\n")
    return text


class SessionDetailScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="back")]

    def __init__(self, services: DashboardServices, session_id: str) -> None:
        super().__init__()
        self.services = services
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static("loading…", id="body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail").border_title = plain(
            f"Session {display_text(self.session_id, 60)}", None
        )
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        try:
            detail = load_session_detail(self.services.loader, self.session_id)
        except LookupError as exc:
            self.post_message(DetailLoaded(Text(display_text(exc, 300))))
            return
        palette = dict(self.app.theme_variables)
        self.post_message(DetailLoaded(render_session(detail, palette)))

    @on(DetailLoaded)
    def _paint_body(self, message: DetailLoaded) -> None:
        self.query_one("#body", Static).update(message.body)
