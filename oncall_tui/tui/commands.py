"""Command palette providers: jump to an incident or a session by typing part of its name.

Hits show sender titles exactly as written. Textual parses a ``str`` hit, and the text given to
``Matcher.highlight``, as markup: a Datadog title's ``[P1]`` would vanish as an unknown style
and ``api[/]`` would fail to parse. So each hit is plain ``Content``, highlighted here.

Textual makes providers itself, from their classes, with no way to hand them anything: so
:func:`palette_providers` binds this dashboard's services to subclasses made for it.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import ClassVar

from textual.command import Hit, Hits, Matcher, Provider
from textual.content import Content

from oncall_tui.core.sanitize import display_text
from oncall_tui.store import dashboard, queries
from oncall_tui.tui.screens.incident_detail import IncidentDetailScreen
from oncall_tui.tui.screens.session_detail import SessionDetailScreen
from oncall_tui.tui.services import DashboardServices

MAX_CANDIDATES = 200


def literal_hit(matcher: Matcher, label: str) -> tuple[float, Content]:
    """The score of ``label`` for the query, and the label as plain text with the matched
    characters highlighted."""
    score, offsets = matcher.fuzzy_search.match(matcher.query, label)
    content = Content(label)
    for offset in offsets:
        if not label[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return score, content


class _StoreProvider(Provider):
    services: ClassVar[DashboardServices]
    """Set on the subclass :func:`palette_providers` makes for one dashboard."""


class IncidentCommands(_StoreProvider):
    """``INC-12``, a service or words of a title → the incident's details."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for incident_id, label in await asyncio.to_thread(self._candidates):
            score, shown = literal_hit(matcher, label)
            if score > 0:
                yield Hit(
                    score,
                    shown,
                    partial(self._open, incident_id),
                    text=label,
                    help="incident details",
                )

    def _candidates(self) -> list[tuple[str, str]]:
        store = self.services.loader.open()
        try:
            found = queries.list_incidents(store.conn, include_resolved=True, limit=MAX_CANDIDATES)
        finally:
            store.close()
        return [(i.id, display_text(f"{i.id} {i.service or ''} {i.title}", 120)) for i in found]

    def _open(self, incident_id: str) -> None:
        self.app.push_screen(IncidentDetailScreen(self.services, incident_id))


class SessionCommands(_StoreProvider):
    """A session id, repo or task → the session's details."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for session_id, label in await asyncio.to_thread(self._candidates):
            score, shown = literal_hit(matcher, label)
            if score > 0:
                yield Hit(
                    score,
                    shown,
                    partial(self._open, session_id),
                    text=label,
                    help="session details",
                )

    def _candidates(self) -> list[tuple[str, str]]:
        store = self.services.loader.open()
        try:
            rows = dashboard.session_rows(store.conn, None, limit=MAX_CANDIDATES)
        finally:
            store.close()
        return [
            (
                r.session.id,
                display_text(
                    f"{r.session.id} {r.session.agent.value} {r.session.repo or ''} {r.session.task}",
                    120,
                ),
            )
            for r in rows
        ]

    def _open(self, session_id: str) -> None:
        self.app.push_screen(SessionDetailScreen(self.services, session_id))


def palette_providers(services: DashboardServices) -> set[type[Provider]]:
    """The incident and session providers of one dashboard, reading through its services."""
    bound = services

    class DashboardIncidents(IncidentCommands):
        services = bound

    class DashboardSessions(SessionCommands):
        services = bound

    return {DashboardIncidents, DashboardSessions}
