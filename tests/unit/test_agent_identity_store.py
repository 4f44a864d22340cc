"""The store tells the sessions of one agent as the rule does
(:func:`oncall_tui.store.queries.agent_session_ids` and
:func:`~oncall_tui.store.queries.sessions_by_agent` beside
:func:`~oncall_tui.core.agent_identity.sessions_of_agent`), on SQLite and PostgreSQL: from the
fields it stores, among the sessions its first cut keeps, every session of every shape."""

from __future__ import annotations

import itertools

from oncall_tui.core.agent_identity import session_agent_id, sessions_of_agent
from oncall_tui.core.agents import AgentKind, AgentSession
from oncall_tui.core.clock import FixedClock
from oncall_tui.store.queries import agent_session_ids, sessions_by_agent
from tests.support.postgres import StoreOpener
from tests.unit.test_agent_identity import NOW, session

REPOS = ("acme-payments/payments-api", "acme-payments/payments-api/", None, "")
BRANCHES = ("feat/retry-budget", "main", None, "")
CWDS = ("/home/dev/payments-api", "acme-payments/payments-api", None)
KINDS = (AgentKind.CLAUDE_CODE, AgentKind.CODEX)


def every_shape() -> list[AgentSession]:
    shapes = itertools.product(KINDS, REPOS, BRANCHES, CWDS)
    return [
        session(f"s-{n}", agent=kind, repo=repo, branch=branch, cwd=cwd)
        for n, (kind, repo, branch, cwd) in enumerate(shapes)
    ]


def test_the_store_tells_every_session_of_the_agent(open_store: StoreOpener) -> None:
    sessions = every_shape()
    store = open_store(FixedClock(NOW))
    with store.write() as writer:
        for each in sessions:
            writer.tables.put_session(each)
        by_agent = sessions_by_agent(writer.conn)
        for each in sessions:
            expected = {s.id for s in sessions_of_agent(sessions, each)}
            assert set(agent_session_ids(writer.conn, each)) == expected, each
            assert set(by_agent[session_agent_id(each)]) == expected, each
