"""The main screen: the incidents across the top, the sessions they affect and the pushes
waiting side by side below (stacked on narrow terminals)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Input

from oncall_tui.core.models import IncidentState, Severity
from oncall_tui.core.sanitize import display_text
from oncall_tui.store.dashboard import IncidentFilter
from oncall_tui.tui.loader import Loader, Snapshot, View
from oncall_tui.tui.messages import (
    AudienceLoaded,
    HealthRead,
    PreviewLoaded,
    SnapshotLoaded,
)
from oncall_tui.tui.screens.broadcast_modal import BroadcastMessage, BroadcastModal
from oncall_tui.tui.screens.edit_modal import EditedGuidance, EditModal
from oncall_tui.tui.screens.engineer_screen import EngineerScreen
from oncall_tui.tui.screens.incident_detail import IncidentDetailScreen
from oncall_tui.tui.screens.note_modal import NoteDraft, NoteModal
from oncall_tui.tui.screens.notes import NotesScreen
from oncall_tui.tui.screens.replay import ReplayScreen
from oncall_tui.tui.screens.session_detail import SessionDetailScreen
from oncall_tui.tui.services import DashboardServices
from oncall_tui.tui.widgets.incident_table import IncidentTable, incident_rows
from oncall_tui.tui.widgets.push_preview import PushPreview
from oncall_tui.tui.widgets.push_table import PushTable, push_rows
from oncall_tui.tui.widgets.session_table import SessionTable, session_label, session_rows
from oncall_tui.tui.widgets.status_bar import StatusBar

NARROW_BELOW = 120


def parse_filter(text: str) -> IncidentFilter:
    """``/`` filter syntax: free text, plus ``sev:critical`` and ``all`` (include resolved)."""
    words = []
    severity = None
    include_resolved = False
    for word in text.split():
        if word.startswith("sev:"):
            severity = Severity.parse(word[4:]).value
        elif word == "all":
            include_resolved = True
        else:
            words.append(word)
    return IncidentFilter(" ".join(words), severity, include_resolved)


class MainScreen(EngineerScreen):
    BINDINGS = [
        Binding("a", "approve", "Approve", id="approve", tooltip="Approve the highlighted push"),
        Binding(
            "r",
            "reject",
            "Reject",
            id="reject",
            tooltip="Reject the highlighted push (reason required)",
        ),
        Binding(
            "e",
            "edit",
            "Edit",
            id="edit",
            tooltip="Edit the highlighted push; saved as a new version",
        ),
        Binding(
            "b", "broadcast", "Broadcast", id="broadcast", tooltip="Message every active session"
        ),
        Binding(
            "enter", "details", "Details", id="details", tooltip="Details of the highlighted row"
        ),
        Binding(
            "A",
            "incident_state('acknowledged')",
            "Ack",
            id="ack-incident",
            tooltip="Acknowledge the incident",
        ),
        Binding(
            "M",
            "incident_state('mitigated')",
            "Mitigate",
            id="mitigate-incident",
            show=False,
            tooltip="Mark the incident mitigated",
        ),
        Binding(
            "R",
            "incident_state('resolved')",
            "Resolve",
            id="resolve-incident",
            show=False,
            tooltip="Resolve the incident: agents are told to stand down",
        ),
        Binding("n", "note", "Note", id="note", tooltip="Add a note to the incident's service"),
        Binding(
            "N",
            "notes",
            "Notes",
            id="notes",
            show=False,
            tooltip="Review notes: agents' proposals, stale notes, the rest",
        ),
        Binding(
            "F",
            "freeze",
            "Freeze",
            id="freeze",
            show=False,
            tooltip="Declare or lift a deploy freeze",
        ),
        Binding(
            "s",
            "show_all",
            "All/one",
            id="show-all",
            tooltip="Sessions and pushes of every incident",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="filter",
            tooltip="Filter incidents: text, sev:critical, all",
        ),
        Binding(
            "t",
            "replay",
            "Replay",
            id="replay",
            show=False,
            tooltip="Replay the selected incident: the dashboard as it was at any moment",
        ),
        Binding("tab", "app.focus_next", "Next pane", show=False),
    ]

    view: reactive[View] = reactive(View(None, IncidentFilter()), init=False)
    """Which incident narrows the side panes, and the incident filter."""

    def __init__(self, services: DashboardServices) -> None:
        super().__init__()
        self.services = services
        self._seq = -1
        self._known_critical: set[str] | None = None
        self._last: Snapshot | None = None
        self._show_all = False
        self._stop_hearing: Callable[[], None] = lambda: None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Input(
            placeholder="filter: text, sev:critical, all — enter to apply, escape to close",
            id="filter",
        )
        with Horizontal(id="panes"):
            with Vertical(id="incidents-pane", classes="pane"):
                yield IncidentTable(id="incidents")
            with Horizontal(id="agent-panes"):
                with Vertical(id="sessions-pane", classes="pane"):
                    yield SessionTable(id="sessions")
                with Vertical(id="pushes-pane", classes="pane"):
                    yield PushTable(id="pushes")
                    yield PushPreview(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#incidents-pane").border_title = "Incidents"
        self.query_one("#sessions-pane").border_title = "Sessions"
        self.query_one("#pushes-pane").border_title = "Pending pushes"
        self.query_one(StatusBar).show(
            receiver=self.services.receiver_state, export_dir=self.services.export_dir_label
        )
        self.query_one(IncidentTable).focus()
        self._apply_width(self.size.width)
        self.refresh_data(force=True)
        if self.services.poll_interval_s > 0:
            self.set_interval(self.services.poll_interval_s, self.refresh_data)
            self._stop_hearing = self.services.journal_news.subscribe(self._journal_moved)

    def on_unmount(self) -> None:
        self._stop_hearing()

    def _journal_moved(self, seq: int | None) -> None:
        """From the news thread: load now rather than at the next poll."""
        if seq is None or seq > self._seq:
            with contextlib.suppress(RuntimeError):  # the app is closing
                self.app.call_from_thread(self.refresh_data, force=seq is None)

    def on_resize(self) -> None:
        self._apply_width(self.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW_BELOW, "narrow")

    # --- data -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def refresh_data(self, force: bool = False) -> None:
        loader = self.services.loader
        view = self.view
        # Read on every tick: sources' ages move and the hooks' errors are logged beside the
        # DB, neither of which changes the journal's sequence.
        self.post_message(HealthRead(loader.health()))
        if not force and self._journal_seq(loader) == self._seq:
            return
        snapshot = loader.snapshot(view, narrow_to_first=not self._show_all)
        self.post_message(SnapshotLoaded(snapshot, view))

    def _journal_seq(self, loader: Loader) -> int:
        """The journal's ``seq`` now: as last heard when listening (no query per poll)."""
        news = self.services.journal_news
        return news.latest if news.listening and news.latest else loader.max_seq()

    @on(HealthRead)
    def _show_health(self, message: HealthRead) -> None:
        self.query_one(StatusBar).show(health=message.health)

    @on(SnapshotLoaded)
    def _show(self, message: SnapshotLoaded) -> None:
        snapshot = message.snapshot
        if message.asked != self.view:  # the engineer moved on while it loaded
            self.refresh_data(force=True)
            return
        if snapshot.view != self.view:  # narrowed to the first incident in the same read
            self.set_reactive(MainScreen.view, snapshot.view)
        self._seq = snapshot.seq
        self._last = snapshot
        palette = self.app.theme_variables
        self.query_one(StatusBar).show(snapshot.counts, receiver=self.services.receiver_state)
        incidents = self.query_one(IncidentTable)
        incidents.sync(
            incident_rows(
                snapshot.page.incidents,
                snapshot.page.rates,
                snapshot.now,
                palette,
                incidents.resolved_style,
                snapshot.agent_assisted,
                incidents.agent_style,
            )
        )
        shown = len(snapshot.page.incidents)
        pane = self.query_one("#incidents-pane")
        pane.border_subtitle = (
            f"{shown} of {snapshot.page.total}" if snapshot.page.total > shown else f"{shown}"
        )
        self.query_one(SessionTable).sync(session_rows(snapshot.sessions, snapshot.now, palette))
        labels = {row.session.id: session_label(row.session) for row in snapshot.sessions}
        self.query_one(PushTable).sync(push_rows(snapshot.pushes, snapshot.now, palette, labels))
        scope = snapshot.view.incident_id
        self.query_one("#sessions-pane").border_title = (
            f"Sessions affected by {scope}" if scope else "All sessions"
        )
        self.query_one("#sessions-pane").border_subtitle = scope or "all incidents"
        self.query_one("#pushes-pane").border_subtitle = scope or "all incidents"
        self._toast_new_critical(snapshot)
        self._refresh_preview()

    def _toast_new_critical(self, snapshot: Snapshot) -> None:
        critical = {
            i.id for i in snapshot.page.incidents if i.severity is Severity.CRITICAL and i.is_active
        }
        if self._known_critical is not None:
            for incident in snapshot.page.incidents:
                if incident.id in critical - self._known_critical:
                    self.notify(
                        f"{incident.id} {display_text(incident.service or '', 60)}".strip(),
                        title="New critical incident",
                        severity="error",
                        timeout=8,
                        markup=False,
                    )
        self._known_critical = (
            critical if self._known_critical is None else self._known_critical | critical
        )

    @on(DataTable.RowHighlighted, "#incidents")
    def _incident_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and not self._show_all and key != self.view.incident_id:
            self.view = View(key, self.view.filter)

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_details()

    def watch_view(self) -> None:
        self.refresh_data(force=True)

    @on(DataTable.RowHighlighted, "#pushes")
    def _push_highlighted(self) -> None:
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        push_id = self.query_one(PushTable).current_key
        self.load_preview(push_id)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def load_preview(self, push_id: str | None) -> None:
        text = self.services.loader.preview(push_id) if push_id else ""
        self.post_message(PreviewLoaded(text))

    @on(PreviewLoaded)
    def _show_preview(self, message: PreviewLoaded) -> None:
        self.query_one(PushPreview).show(message.text)

    # --- actions ----------------------------------------------------------------------

    def _push_id(self) -> str | None:
        push_id = self.query_one(PushTable).current_key
        if push_id is None:
            self.notify("No push highlighted", severity="warning")
        return push_id

    def _incident_id(self) -> str | None:
        incident_id = self.view.incident_id or self.query_one(IncidentTable).current_key
        if incident_id is None:
            self.notify("No incident selected", severity="warning")
        return incident_id

    def after_action(self) -> None:
        self.refresh_data(force=True)

    def action_approve(self) -> None:
        if (push_id := self._push_id()) is not None:
            self.perform(self.services.actions.approve_push(push_id), f"{push_id} approved")

    def action_reject(self) -> None:
        if (push_id := self._push_id()) is not None:
            reject = partial(self.services.actions.reject_push, push_id)
            self.reject_with_reason(push_id, reject, f"{push_id} rejected")

    def action_edit(self) -> None:
        if (push_id := self._push_id()) is None:
            return
        push = next((p for p in (self._last.pushes if self._last else []) if p.id == push_id), None)
        if push is None:
            return

        def done(edited: EditedGuidance | None) -> None:
            if edited is not None:
                self.perform(
                    self.services.actions.edit_push(push_id, edited.text),
                    f"{push_id} edited: a new version awaits approval",
                )

        self.app.push_screen(EditModal(push_id, push.guidance), done)

    def action_broadcast(self) -> None:
        if (incident_id := self._incident_id()) is not None:
            self._load_audience(incident_id)

    @work(thread=True, group="dialogs", exit_on_error=False)
    def _load_audience(self, incident_id: str) -> None:
        store = self.services.loader.open()
        try:
            audience = self.services.actions.broadcast_audience(store)
        finally:
            store.close()
        self.post_message(AudienceLoaded(incident_id, audience))

    @on(AudienceLoaded)
    def _show_broadcast(self, message: AudienceLoaded) -> None:
        incident_id, audience = message.incident_id, message.audience

        def done(broadcast: BroadcastMessage | None) -> None:
            if broadcast is not None:
                self.perform(
                    self.services.actions.broadcast(incident_id, broadcast.text),
                    f"broadcast sent to {len(audience)} sessions",
                )

        self.app.push_screen(BroadcastModal(incident_id, audience), done)

    def action_incident_state(self, state: str) -> None:
        if (incident_id := self._incident_id()) is not None:
            action = self.services.actions.change_incident_state(incident_id, IncidentState(state))
            self.perform(action, f"{incident_id} {state}")

    def action_freeze(self) -> None:
        incident_id = self._incident_id()
        if incident_id is None or self._last is None:
            return
        incident = next((i for i in self._last.page.incidents if i.id == incident_id), None)
        frozen = not (incident.deploy_freeze if incident else False)
        done = f"{incident_id}: deploy freeze {'declared' if frozen else 'lifted'}"
        self.perform(self.services.actions.set_freeze(incident_id, frozen), done)

    def action_note(self) -> None:
        incident_id = self._incident_id()
        if incident_id is None or self._last is None:
            return
        incident = next((i for i in self._last.page.incidents if i.id == incident_id), None)
        service = incident.service if incident else None

        def done(draft: NoteDraft | None) -> None:
            if draft is not None:
                action = self.services.actions.add_note(
                    incident_id, draft.kind, draft.text, draft.service, draft.rationale
                )
                self.perform(action, "note added")

        self.app.push_screen(NoteModal(incident_id, service), done)

    def action_notes(self) -> None:
        self.app.push_screen(NotesScreen(self.services))

    def action_show_all(self) -> None:
        self._show_all = not self._show_all
        key = None if self._show_all else self.query_one(IncidentTable).current_key
        self.view = View(key, self.view.filter)

    def action_details(self) -> None:
        focused = self.focused
        if isinstance(focused, SessionTable) and focused.current_key:
            self.app.push_screen(SessionDetailScreen(self.services, focused.current_key))
        elif isinstance(focused, PushTable) and focused.current_key:
            self.query_one(PushPreview).focus()
        elif isinstance(focused, IncidentTable) and focused.current_key:
            self.app.push_screen(IncidentDetailScreen(self.services, focused.current_key))

    def action_replay(self) -> None:
        if (incident_id := self._incident_id()) is not None:
            self.app.push_screen(ReplayScreen(self.services, incident_id))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("open")
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.view = View(self.view.incident_id, parse_filter(event.value))
        self.query_one(IncidentTable).focus()

    def key_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("open"):
            box.remove_class("open")
            self.query_one(IncidentTable).focus()
