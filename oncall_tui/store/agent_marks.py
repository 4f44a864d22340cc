"""Which listed incidents are agent-assisted: one indexed query for the dashboard's marker.

The full join (:func:`oncall_tui.store.reports.incident_evidence`) reads every incident and the
journal's push history, which the detail screen can afford once but the incident list cannot on
every refresh. The marker only needs the first half of the join: a suspect deploy whose resolved
range holds a commit tied to a session or to an agent's trailer. Both agree by construction:
:func:`oncall_tui.core.regressions.agent_assisted` flags exactly these incidents.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from oncall_tui.store.reports import SUSPECT

_MARKED = """
SELECT DISTINCT l.incident_id
FROM change_links l
JOIN deploy_ranges d ON d.signal_id = l.signal_id
JOIN json_each(json_extract(d.data, '$.shas')) shipped
JOIN commits c ON c.sha = shipped.value
WHERE l.relation = ?
  AND l.incident_id IN (SELECT value FROM json_each(?))
  AND (c.session_id IS NOT NULL OR json_extract(c.data, '$.agent') IS NOT NULL)
"""


def agent_assisted_ids(conn: sqlite3.Connection, incident_ids: Iterable[str]) -> frozenset[str]:
    """The ids among ``incident_ids`` whose suspect deploy shipped an agent's commit."""
    keys = json.dumps(sorted(set(incident_ids)))
    if keys == "[]":
        return frozenset()
    return frozenset(str(row[0]) for row in conn.execute(_MARKED, (SUSPECT, keys)))
