"""Running ``oncall-tui hook AGENT`` as each agent runs it: a process, the agent's JSON on
stdin, in a real checkout, against a DB with an active payment-processor incident (the world of
``tests/integration/test_hook.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oncall_tui.actions import Rules
from tests.integration.test_hook import CATALOG, HOOK_TIMEOUT_S, World, make_repo, prepare_db

AFFECTED = "services/processor/retry.py"
"""A file of payment-processor, the degraded service."""
UNRELATED = "docs/notes.md"


@dataclass
class AgentRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> dict[str, Any]:
        """The printed JSON (the agents that read JSON want exactly one object)."""
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and self.stderr == ""


def run_agent_hook(
    db: Path,
    agent: str,
    payload: dict[str, Any] | str,
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> AgentRun:
    """The real command, as the agent's hook configuration runs it."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(db), "hook", agent],
        input=text.encode(),
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=HOOK_TIMEOUT_S,
        check=False,
    )
    return AgentRun(done.returncode, done.stdout.decode(), done.stderr.decode())


def make_world(tmp_path: Path) -> Iterator[World]:
    """The hook tests' world: a checkout of acme-payments/payments-api and INC-1 in the DB."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    rules = Rules()
    store = prepare_db(tmp_path / "oncall.db", catalog, rules)
    try:
        yield World(make_repo(tmp_path / "payments-api"), tmp_path / "oncall.db", store, rules)
    finally:
        store.close()


def stored_session(world: World, session_id: str) -> dict[str, Any] | None:
    rows = world.rows("SELECT data FROM sessions WHERE id = ?", (session_id,))
    return json.loads(rows[0][0]) if rows else None


def deliveries(world: World) -> int:
    return len(world.rows("SELECT 1 FROM journal WHERE kind = 'context.delivered'"))
