"""What ``oncall-tui watch`` asks of the DB, twice a second for as long as a session is open.

Plain SQL on indexed columns, as the hook's quick reads do (:mod:`~oncall_tui.store.hook_queries`,
whose state lists this module shares): a watcher costs one small read per interval and never
writes. News is what :func:`~oncall_tui.store.hook_queries.has_new_context` counts as news, one
row per push, so a line printed by the watcher names exactly what the session's context shows.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from oncall_tui.core.watch_line import NewsKind, WatchEvent
from oncall_tui.store.hook_queries import (
    ACTIVE,
    HEARD_OF_INCIDENT,
    LIVE,
    LIVE_UPDATE_OF_INCIDENT,
)


def journal_head(conn: sqlite3.Connection) -> int:
    """The last journal seq: a watcher started "now" prints what becomes news after it."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])


@dataclass(frozen=True)
class SessionMatch:
    session_id: str
    rank: int
    """0: same working directory, 1: one directory inside the other, 2: same repository."""


def find_session(
    conn: sqlite3.Connection, cwd: str, repo: str | None, seen_since: str
) -> str | None:
    """The open session working in ``cwd``: the closest match, the most recently seen first.

    ``cwd`` is compared with symlinks resolved on both sides; ``repo`` (``owner/name``, when the
    directory is a checkout) matches sessions elsewhere in the same repository. Sessions that
    ended, or have been silent since before ``seen_since`` (ISO time), are not candidates.
    """
    here = os.path.realpath(cwd)
    rows = conn.execute(
        "SELECT id, json_extract(data, '$.cwd'), repo FROM sessions"
        " WHERE ended_at IS NULL AND last_seen >= ? ORDER BY last_seen DESC, id",
        (seen_since,),
    ).fetchall()
    best: SessionMatch | None = None
    for session_id, session_cwd, session_repo in rows:
        rank = _match_rank(here, session_cwd, session_repo, repo)
        if rank is not None and (best is None or rank < best.rank):
            best = SessionMatch(session_id, rank)
    return best.session_id if best else None


def _match_rank(
    here: str, cwd: str | None, repo: str | None, wanted_repo: str | None
) -> int | None:
    if cwd:
        there = os.path.realpath(cwd)
        if there == here:
            return 0
        if _inside(here, there) or _inside(there, here):
            return 1
    if wanted_repo and repo and repo.lower() == wanted_repo.lower():
        return 2
    return None


def _inside(child: str, parent: str) -> bool:
    return child.startswith(parent.rstrip(os.sep) + os.sep)


_SERVICE = "CASE WHEN EXISTS (SELECT 1 FROM catalog c WHERE c.name = i.service) THEN i.service END"
"""Only a service the engineer's catalog defines is named: an alert's label is sender text."""
_COLUMNS = (
    "p.id, p.incident_id, coalesce(json_extract(p.data, '$.version'), 1),"
    f" json_extract(i.data, '$.severity'), {_SERVICE}"
)
_LIVE_SEQ = "json_extract(p.data, '$.live_seq')"
_PROPOSED_SEQ = "json_extract(p.data, '$.proposed_seq')"
_NEWS = (
    f"SELECT {_LIVE_SEQ}, p.kind, {_COLUMNS} FROM pushes p JOIN incidents i ON i.id = p.incident_id"
    f" WHERE p.session_id = :session AND +p.state IN {LIVE} AND {_LIVE_SEQ} > :since"
    f" AND p.kind != 'stand-down' AND i.state IN {ACTIVE}"
    f" UNION ALL SELECT {_LIVE_SEQ}, p.kind, {_COLUMNS}"
    " FROM pushes p JOIN incidents i ON i.id = p.incident_id"
    f" WHERE p.session_id = :session AND +p.state IN {LIVE} AND {_LIVE_SEQ} > :since"
    f" AND p.kind = 'stand-down' AND i.state = 'resolved' AND EXISTS ({HEARD_OF_INCIDENT})"
    f" UNION ALL SELECT {_PROPOSED_SEQ}, 'notice', {_COLUMNS}"
    " FROM pushes p JOIN incidents i ON i.id = p.incident_id"
    " WHERE p.session_id = :session AND +p.state = 'pending' AND p.kind = 'update'"
    f" AND json_extract(p.data, '$.notice') AND {_PROPOSED_SEQ} > :since"
    f" AND i.state IN {ACTIVE} AND NOT EXISTS ({LIVE_UPDATE_OF_INCIDENT})"
    f" UNION ALL SELECT {_LIVE_SEQ}, p.kind, {_COLUMNS}"
    " FROM pushes p JOIN incidents i ON i.id = p.incident_id"
    f" WHERE p.session_id IS NULL AND +p.state IN {LIVE} AND {_LIVE_SEQ} > :since"
    f" AND i.state IN {ACTIVE}"
    " AND EXISTS (SELECT 1 FROM json_each(p.data, '$.recipients') WHERE value = :session)"
    " ORDER BY 1, 3"
)
_KINDS = {kind.value: kind for kind in NewsKind}


def news_since(conn: sqlite3.Connection, session_id: str, since_seq: int) -> list[WatchEvent]:
    """What became news for the session after journal seq ``since_seq``, oldest first.

    Writes are serialised and each push's seq is taken in the transaction that commits it, so
    news never appears below a seq already read: the caller advances its cursor to the last
    seq returned and asks again from there.
    """
    rows = conn.execute(_NEWS, {"session": session_id, "since": since_seq}).fetchall()
    events = []
    for seq, kind, push_id, incident_id, version, severity, service in rows:
        news_kind = _KINDS.get(str(kind))
        if news_kind is None:  # a kind a newer release added: not ours to announce
            continue
        events.append(
            WatchEvent(
                seq=int(seq),
                push_id=str(push_id),
                incident_id=str(incident_id),
                version=int(version),
                kind=news_kind,
                severity=severity if isinstance(severity, str) else None,
                service=service if isinstance(service, str) else None,
            )
        )
    return events
