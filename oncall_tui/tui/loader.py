"""Reads for the dashboard, run in worker threads; each opens its own short-lived connection."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_tui.actions.notes import list_notes, stale_notes
from oncall_tui.agents.error_log import RecentErrors, recent_errors
from oncall_tui.config import Settings
from oncall_tui.core.agents import AgentSession, Note, Push
from oncall_tui.core.clock import Clock
from oncall_tui.core.context.preview import render_preview, session_who
from oncall_tui.core.context.render import render_json
from oncall_tui.core.health import PipelineHealth
from oncall_tui.core.models import ChangeLink, Incident, StoredSignal
from oncall_tui.core.note_review import ReviewItem, review_items
from oncall_tui.core.plural import counted
from oncall_tui.core.regressions import AgentAssisted
from oncall_tui.core.topology import Catalog, blast_radius
from oncall_tui.paths import DbLocation
from oncall_tui.store import dashboard, queries
from oncall_tui.store.agent_marks import agent_assisted_ids
from oncall_tui.store.context import build_session_context, notes_for_services
from oncall_tui.store.health import NewestDeliveries, read_health
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.reports import incident_evidence


@dataclass(frozen=True)
class View:
    """What the main screen shows; ``incident_id`` None means "all"."""

    incident_id: str | None
    filter: dashboard.IncidentFilter


@dataclass(frozen=True)
class Snapshot:
    seq: int
    now: datetime
    counts: dashboard.Counts
    page: dashboard.IncidentPage
    sessions: list[dashboard.SessionRow]
    pushes: list[Push]
    view: View
    agent_assisted: frozenset[str] = frozenset()
    """The listed incidents whose suspect deploy shipped an agent's commit (the row marker)."""


class Loader:
    """Opens the DB per call: worker threads must not share a sqlite connection."""

    def __init__(
        self,
        db_path: DbLocation,
        clock: Clock,
        *,
        contact: str | None = None,
        keep_resolved_s: float = 0,
        settings: Settings | None = None,
    ) -> None:
        self.db_path = db_path
        self.clock = clock
        self.contact = contact
        """Who agents are told to ask (``[oncall] contact``), for the preview."""
        self.keep_resolved_s = keep_resolved_s
        """How long a resolved incident stays listed (``[ui] keep_resolved_s``)."""
        self.settings = settings
        """What the header's health judges against (sources, silence, policy); None: defaults."""
        self._newest_deliveries = NewestDeliveries()

    def open(self) -> Store:
        return Store.open(self.db_path, self.clock)

    def agent_errors(self) -> RecentErrors:
        """The hooks' and MCP servers' internal errors of the last 24 h, from their log
        beside the DB (a stat and a short read: cheap enough for every refresh tick)."""
        return recent_errors(self.db_path, self.clock.now())

    def health(self) -> PipelineHealth:
        """The pipeline's health for the header: read on every tick (indexed and incremental,
        see :mod:`oncall_tui.store.health`), since ages move even when the journal does not."""
        if self.settings is None:
            self.settings = Settings(db=self.db_path)
        settings = self.settings
        errors = self.agent_errors().count
        store = self.open()
        try:
            return read_health(
                store.conn,
                settings,
                self.clock.now(),
                agent_errors=errors,
                newest=self._newest_deliveries,
            )
        finally:
            store.close()

    def max_seq(self) -> int:
        store = self.open()
        try:
            return store.max_seq()
        finally:
            store.close()

    def snapshot(self, view: View, *, narrow_to_first: bool = False) -> Snapshot:
        """What the main screen shows. ``narrow_to_first``: with no incident chosen yet, narrow
        to the first one in the same read (one load and one paint at start, not two)."""
        store = self.open()
        try:
            conn = store.conn
            now = self.clock.now()
            counts = dashboard.counts(conn)
            kept_since = now - timedelta(seconds=self.keep_resolved_s)
            page = dashboard.incident_page(
                conn, now, view.filter, resolved_since=kept_since if self.keep_resolved_s else None
            )
            if narrow_to_first and view.incident_id is None and page.incidents:
                view = View(page.incidents[0].id, view.filter)
            sessions = dashboard.session_rows(conn, view.incident_id)
            pushes = dashboard.push_rows(conn, view.incident_id)
            marked = agent_assisted_ids(conn, (i.id for i in page.incidents))
            return Snapshot(counts.max_seq, now, counts, page, sessions, pushes, view, marked)
        finally:
            store.close()

    def preview(self, push_id: str) -> str:
        """The document the push's session(s) will read once it is approved."""
        store = self.open()
        try:
            push = store.tables().get_push(push_id)
            if push is None:
                return ""
            session_id = push.session_id or (push.recipients[0] if push.recipients else None)
            if session_id is None:
                return ""
            ctx = build_session_context(
                store.conn, session_id, assume_approved=push, contact=self.contact
            )
            if ctx is None:
                return ""
            document = render_json(ctx, fence_key(store))
            header = ""
            if push.session_id is None:
                shown_as = session_who(document.session)
                header = (
                    f"(broadcast to {counted(len(push.recipients), 'session')};"
                    f" shown as {shown_as} will read it)\n\n"
                )
            # The engineer's order (guidance and why first); the agent's file keeps its own.
            return header + render_preview(document)
        finally:
            store.close()


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    signals: list[StoredSignal]
    changes: list[tuple[ChangeLink, StoredSignal]]
    radius: dict[str, list[str]]
    notes: list[Note]
    agent_assisted: AgentAssisted | None = None
    """The evidence when a suspect deploy carried an agent's commits."""


@dataclass(frozen=True)
class SessionDetail:
    session: AgentSession
    pushes: list[Push]


def load_incident_detail(loader: Loader, incident_id: str) -> IncidentDetail:
    store = loader.open()
    try:
        conn = store.conn
        incident = queries.get_incident(conn, incident_id)
        catalog = Catalog(services=store.tables().get_catalog(), source="store")
        degraded = incident.services or ([incident.service] if incident.service else [])
        services = set(degraded) | set(blast_radius(catalog, degraded))
        notes = notes_for_services(conn, services) + _incident_notes(conn, incident.id)
        return IncidentDetail(
            incident,
            queries.incident_signals(conn, incident.id),
            queries.incident_changes(conn, incident.id),
            blast_radius(catalog, degraded),
            notes,
            incident_evidence(conn, incident.id),
        )
    finally:
        store.close()


def load_session_detail(loader: Loader, session_id: str) -> SessionDetail:
    store = loader.open()
    try:
        session = store.tables().get_session(session_id)
        if session is None:
            raise queries.NotFoundError(f"no session {session_id}")
        return SessionDetail(session, dashboard.session_pushes(store.conn, session_id))
    finally:
        store.close()


def load_notes_review(loader: Loader) -> list[ReviewItem]:
    """Every note in review order: agents' pending notes and proposals, stale, the rest."""
    store = loader.open()
    try:
        notes = list_notes(store, include_superseded=True)
    finally:
        store.close()
    current = [n for n in notes if n.is_current]
    # Checking for vanished files stats the disk: done here, in the worker, not in core.
    return review_items(notes, stale_notes(current, loader.clock.now()))


def _incident_notes(conn: sqlite3.Connection, incident_id: str) -> list[Note]:
    rows = conn.execute(
        "SELECT data FROM notes WHERE incident_id = ? ORDER BY number", (incident_id,)
    ).fetchall()
    return [n for n in (Note.model_validate_json(r[0]) for r in rows) if n.is_current]
