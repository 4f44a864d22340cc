"""Reads of the commits made in agent sessions and of the commits each deploy shipped.

The ``commits`` and ``deploy_ranges`` tables are projections of ``commit.recorded`` and
``deploy.range_resolved`` entries; these functions hand back the values the journal recorded.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from oncall_tui.core.commit_records import commit_from_json, deploy_from_json
from oncall_tui.core.commits import Commit, DeployRange

_IN_LIST = "(SELECT value FROM json_each(?))"
"""Many keys as one parameter: a JSON array, however long (no limit on SQL variables)."""


def commits_by_sha(conn: sqlite3.Connection, shas: Iterable[str]) -> dict[str, Commit]:
    """The recorded commits among ``shas`` (unknown ones are left out)."""
    keys = json.dumps(sorted(set(shas)))
    rows = conn.execute(f"SELECT data FROM commits WHERE sha IN {_IN_LIST}", (keys,)).fetchall()
    found = (commit_from_json(json.loads(data)) for (data,) in rows)
    return {commit.sha: commit for commit in found}


def session_commits(conn: sqlite3.Connection, session_ids: Iterable[str]) -> list[Commit]:
    """The commits attributed to these sessions, oldest first."""
    keys = json.dumps(sorted(set(session_ids)))
    rows = conn.execute(
        f"SELECT data FROM commits WHERE session_id IN {_IN_LIST} ORDER BY authored_at, sha",
        (keys,),
    ).fetchall()
    return [commit_from_json(json.loads(data)) for (data,) in rows]


def deploy_ranges(conn: sqlite3.Connection, signal_ids: Iterable[int]) -> dict[int, DeployRange]:
    """The resolved ranges of these deploy signals (unresolved ones are left out)."""
    keys = json.dumps(sorted({int(i) for i in signal_ids}))
    rows = conn.execute(
        f"SELECT data FROM deploy_ranges WHERE signal_id IN {_IN_LIST}", (keys,)
    ).fetchall()
    found = (deploy_from_json(json.loads(data)) for (data,) in rows)
    return {deploy.signal_id: deploy for deploy in found}


def all_commits(conn: sqlite3.Connection) -> list[Commit]:
    """Every recorded commit, oldest first."""
    rows = conn.execute("SELECT data FROM commits ORDER BY authored_at, sha").fetchall()
    return [commit_from_json(json.loads(data)) for (data,) in rows]


def all_deploy_ranges(conn: sqlite3.Connection) -> list[DeployRange]:
    """Every resolved deploy range, in the order the deploys were recorded."""
    rows = conn.execute("SELECT data FROM deploy_ranges ORDER BY signal_id").fetchall()
    return [deploy_from_json(json.loads(data)) for (data,) in rows]


def resolved_signal_ids(conn: sqlite3.Connection) -> set[int]:
    """The deploy signals whose range is already known."""
    return {int(row[0]) for row in conn.execute("SELECT signal_id FROM deploy_ranges")}
