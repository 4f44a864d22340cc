"""The read side answers the same on both backends: the demo's night played into a SQLite
file and into PostgreSQL, then the listings, the dashboard's queries, the hook's and
``watch``'s, the timeline and the reports asked of both.

The night ends resolved: what only an active incident, a commit or a deploy range makes
answer (``watch`` news, commit evidence) is not asked here."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.scenario import ScenarioPlayer, load_scenario
from oncall_tui.store import (
    context,
    dashboard,
    deliveries,
    health,
    hook_queries,
    listing,
    queries,
    reports,
    timeline,
    watch_queries,
)
from oncall_tui.store.journal import Store
from tests.integration.test_replay_determinism import NOW, prepared_store
from tests.support.postgres import PgServer, with_search_path

INCIDENT = "INC-1"
SESSION = "cc-processor"
DAY = timedelta(days=1)
Read = Callable[[Store], Any]

READS: dict[str, Read] = {
    "counts": lambda s: dashboard.counts(s.conn),
    "incident page": lambda s: dashboard.incident_page(s.conn, NOW),
    "page with resolved": lambda s: dashboard.incident_page(s.conn, NOW, resolved_since=NOW - DAY),
    # Sessions seen at one instant tie on the page's order: compared as a set.
    "open sessions": lambda s: sorted(
        (r.session.id, r.push) for r in dashboard.session_rows(s.conn, None)
    ),
    "affected sessions": lambda s: dashboard.session_rows(s.conn, INCIDENT),
    "push rows": lambda s: dashboard.push_rows(s.conn, INCIDENT, states=("approved", "superseded")),
    "session pushes": lambda s: dashboard.session_pushes(s.conn, SESSION),
    "incidents": lambda s: listing.list_incidents(s.conn, include_resolved=True),
    "pushes": lambda s: listing.list_pushes(s.conn, state=None, incident=None, limit=100),
    "incident by number": lambda s: queries.get_incident(s.conn, "inc-1"),
    "signals": lambda s: queries.incident_signals(s.conn, INCIDENT),
    "changes": lambda s: queries.incident_changes(s.conn, INCIDENT),
    "context": lambda s: context.build_session_context(s.conn, SESSION),
    "active sessions": lambda s: health.active_sessions(s.conn, NOW, timedelta(hours=1)),
    "hook session": lambda s: hook_queries.read_session(s.conn, SESSION),
    "hook news": lambda s: [hook_queries.has_new_context(s.conn, SESSION, n) for n in (0, 40)],
    "guard inputs": lambda s: hook_queries.read_guard_inputs(s.conn, SESSION).state_key,
    "watch head": lambda s: watch_queries.journal_head(s.conn),
    "timeline": lambda s: timeline.StorySource(s, INCIDENT).timeline().rows,
    "incidents between": lambda s: timeline.incidents_between(s, NOW - DAY, NOW),
    "deliveries": lambda s: [(d.source, d.status, d.body) for d in deliveries.listing(s.conn)],
    "regressions": lambda s: reports.fetch_regression_report(s.conn, NOW - DAY, NOW),
    "agents": lambda s: reports.fetch_agents_report(s.conn, NOW - DAY, NOW),
}


def _night(root: Path, where: str | Path) -> Store:
    store, settings = prepared_store(root, lambda clock: Store.open(where, clock))
    scenario = load_scenario()
    player = ScenarioPlayer(scenario, store, settings, NOW - timedelta(seconds=scenario.duration_s))
    for step in scenario.steps:
        player.play(step)
    return store


@pytest.fixture(scope="module")
def both(
    tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer
) -> Iterator[dict[str, Store]]:
    import psycopg

    schema = f"reads_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    root = tmp_path_factory.mktemp("night")
    stores = {
        "sqlite": _night(root / "sqlite", root / "oncall.db"),
        "postgresql": _night(root / "postgresql", with_search_path(pg_server.url, schema)),
    }
    yield stores
    for store in stores.values():
        store.close()
    if not pg_server.throwaway:
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_read_answers_the_same_on_both_backends(both: dict[str, Store], read: Read) -> None:
    answer = read(both["sqlite"])
    assert answer or answer == 0, "the night gives it something to answer"
    assert read(both["postgresql"]) == answer
