"""The work of the MCP tools and resources on a store, without the MCP SDK.

The local server (``oncall-tui mcp``) calls it on its worker threads, and ``serve`` calls the
same methods for an agent on another machine (:mod:`~oncall_tui.server.agent_tools_routes`), so
that ``mcp --server`` acts, validates and answers exactly as a local server would. It is kept
apart from :mod:`oncall_tui.agents.mcp` because the SDK costs about half a second to import,
which ``serve`` and the dashboard (which embeds the receiver) would pay at every start.
Sender text (alert titles, descriptions) only ever reaches the client through the renderer's
fenced untrusted-data block; the per-incident summary is built from structured fields alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from oncall_tui.actions import Rules
from oncall_tui.actions import notes as note_actions
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions.sessions import heartbeat
from oncall_tui.agents.error_log import record as record_error
from oncall_tui.core.agents import NoteKind, validate_session_id
from oncall_tui.core.clock import Clock
from oncall_tui.core.context.model import SessionContext
from oncall_tui.core.context.render import render_json, render_markdown
from oncall_tui.core.guidance import change_summary
from oncall_tui.core.models import ChangeLink, Incident, StoredSignal
from oncall_tui.core.sanitize import identifier
from oncall_tui.paths import DbLocation
from oncall_tui.store.context import build_session_context, session_pushes
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.queries import NotFoundError, get_incident, incident_changes, list_incidents

Format = Literal["md", "json"]


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def bound_session(given: str | None, default_session: str | None) -> str:
    """The session a call acts for: the one the server is bound to, or else the one given
    (both backends, local and ``--server``, keep the same rule)."""
    session_id = validate_session_id(given) if given else default_session
    if not session_id:
        raise ValueError("no session id: pass session_id, or start the server with --session")
    if default_session and session_id != default_session:
        raise ValueError(
            f"this server serves session {default_session} only;"
            f" it cannot act for session {session_id}"
        )
    return session_id


def incident_summary(incident: Incident, changes: list[tuple[ChangeLink, StoredSignal]]) -> str:
    """Markdown from structured fields only.

    The incident title and the alert texts are sender text: they are left out here and shown,
    fenced, in the session context, next to the guidance the engineer chose.
    """
    services = ", ".join(f"`{identifier(s)}`" for s in incident.services) or "unknown"
    times = [
        ("Opened", incident.opened_at),
        ("Acknowledged", incident.acknowledged_at),
        ("Mitigated", incident.mitigated_at),
        ("Resolved", incident.resolved_at),
        ("Last updated", incident.updated_at),
    ]
    sources = ", ".join(identifier(s) for s in incident.sources) or "-"
    suspects = [
        f"- {link.relation}: {change_summary(stored.signal)}, {stored.signal.status.value},"
        f" at {_when(stored.signal.occurred_at)} (source {identifier(stored.signal.source)},"
        f" delivery {stored.signal.delivery_id or '-'})"
        for link, stored in changes
    ]
    lines = [
        f"# {incident.id}: {incident.severity.value}, {incident.state.value}",
        "",
        f"- Services: {services}",
        *(f"- {label}: {_when(moment)}" for label, moment in times if moment is not None),
        f"- Signals: {incident.signal_count} (from {sources})",
        "",
        "## Linked changes",
        "",
        *(suspects or ["None linked."]),
        "",
        "Alert text and the on-call engineer's guidance are in your session context"
        " (get_context, or oncall://sessions/<session_id>/context).",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class StoreBackend:
    """The synchronous work behind each tool and resource, one fresh store per call.

    ``serve`` makes one per request, bound to the session its route names, so that a route acts
    for that session alone, as a server started with ``--session`` does.
    """

    store_path: DbLocation
    rules: Rules
    clock: Clock
    default_session: str | None

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A fresh store for one call. A failure that is not the caller's (a bad id, an unknown
        push) is logged beside the DB: the client is told only that the call failed, and the
        SDK's traceback on stderr is read by no one."""
        try:
            store = Store.open(self.store_path, self.clock)
            try:
                yield store
            finally:
                store.close()
        except (LookupError, ValueError):
            raise
        except Exception as exc:
            record_error(self.store_path, "mcp", exc)
            raise

    def session_id(self, given: str | None) -> str:
        """The session a call acts for: the one the server is bound to, or else the one given.

        A server started for a session (``--session``, or the session id its agent sets) is that
        agent's alone: it acts and reads for no other session, so one agent cannot acknowledge,
        take delivery of or read another's context by naming it.
        """
        return bound_session(given, self.default_session)

    def seen(self, store: Store, session_id: str) -> None:
        """A call proves the agent is alive: without this an MCP-only session would go idle,
        then ended, and stop being targeted by new pushes."""
        try:
            heartbeat(store, self.rules, session_id)
        except NotFoundError as exc:
            hint = "register it first (the Claude Code hook does so when the session starts)"
            raise NotFoundError(f"no session {session_id}: {hint}") from exc

    def render(self, store: Store, session_id: str, fmt: Format) -> tuple[str, SessionContext]:
        ctx = build_session_context(store.conn, session_id, contact=self.rules.contact)
        if ctx is None:
            raise NotFoundError(f"no session {session_id}")
        key = fence_key(store)
        # The same notes flagged as in every other document the agent reads (files, hook).
        stale = note_actions.stale_notes(ctx.notes, store.clock.now())
        if fmt == "json":
            return render_json(ctx, key, stale_notes=stale).model_dump_json(indent=2), ctx
        return render_markdown(ctx, key, stale_notes=stale), ctx

    def document(self, session_id: str, fmt: Format) -> str:
        """A resource read: no side effect, since clients may read resources on their own."""
        with self.store() as store:
            return self.render(store, self.session_id(session_id), fmt)[0]

    def deliver(self, given: str | None, fmt: Format) -> str:
        session_id = self.session_id(given)
        with self.store() as store:
            self.seen(store, session_id)
            text, ctx = self.render(store, session_id, fmt)
            if ctx.push_ids:
                push_actions.record_delivery(
                    store, session_id, ctx.push_ids, channel="mcp", through_seq=ctx.seq
                )
        return text

    def acknowledge(self, push_ref: str, given: str | None) -> str:
        session_id = self.session_id(given)
        ref = push_ref.strip().upper()
        ref = ref if ref.startswith("P-") else f"P-{ref}"
        with self.store() as store:
            self.seen(store, session_id)
            if store.tables().get_push(ref) is None:
                raise NotFoundError(f"no push {ref}")
            if ref not in {p.id for p in session_pushes(store.conn, session_id)}:
                raise ValueError(
                    f"{ref} is not addressed to session {session_id}: acknowledge only your own"
                )
            push = push_actions.acknowledge(store, ref, by=f"agent:{session_id}")
        return f"{push.id} ({push.incident_id}) acknowledged: the on-call engineer can see it."

    def add_note(
        self,
        service: str,
        text: str,
        kind: NoteKind,
        rationale: str,
        given: str | None,
        paths: list[str] | None = None,
    ) -> str:
        session_id = self.session_id(given)
        with self.store() as store:
            self.seen(store, session_id)
            session = store.tables().get_session(session_id)
            note = note_actions.add_note(
                store,
                author=f"agent:{session_id}",
                kind=kind,
                text=text,
                service=note_actions.check_service(store, service),
                rationale=rationale,
                paths=paths or [],
                repo_root=session.cwd if session is not None and paths else None,
                agent_authored=True,
            )
        return (
            f"{note.id} saved for {note.service} as an agent-authored {note.kind.value}, not yet"
            " accepted: other agents will not see it until an on-call engineer accepts it."
        )

    def propose_update(self, note_id: str, text: str, rationale: str, given: str | None) -> str:
        """A superseding note by the agent, pending: the old one holds until it is accepted."""
        session_id = self.session_id(given)
        with self.store() as store:
            self.seen(store, session_id)
            old = store.tables().get_note(note_id.strip().upper())
            if old is None or not old.is_current or old.service is None:
                raise NotFoundError(f"no current note {note_id.strip()[:20]}".rstrip())
            note = note_actions.add_note(
                store,
                author=f"agent:{session_id}",
                kind=old.kind,
                text=text,
                service=old.service,
                rationale=rationale,
                paths=old.paths,
                repo_root=old.repo_root,
                agent_authored=True,
                supersedes=old.id,
            )
        return (
            f"{note.id} proposed as the update of {old.id}, not yet accepted: {old.id} stays"
            " in force until an on-call engineer accepts it."
        )

    def incident(self, incident_id: str) -> str:
        with self.store() as store:
            found = get_incident(store.conn, incident_id)
            return incident_summary(found, incident_changes(store.conn, found.id))

    def active_incidents(self) -> list[Incident]:
        with self.store() as store:
            return list_incidents(store.conn)
