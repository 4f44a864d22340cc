"""Reading an incident's story out of the journal, for the replay and the timeline exports.

A story is the rows whose bodies name the incident, its signals, its pushes or the sessions those
pushes addressed, plus the other incidents those sessions were told about at the same time (their
sections were in the documents the agents read), the catalog and the notes. From the incident's
opening on, the journal is read in one pass and picked in Python, which costs little more than
reading the rows at all (a storm's story is most of the journal in that span); before it, only
what the fold needs is fetched (the sessions' history, early signals, catalog, notes). Bodies
stay JSON text: the timeline parses what it needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oncall_tui.core import collector
from oncall_tui.core.clock import iso
from oncall_tui.core.journal import (
    INCIDENT_KINDS,
    NOTE_KINDS,
    PUSH_KINDS,
    SESSION_KINDS,
    STORY_KINDS,
    Kind,
)
from oncall_tui.core.journal_rows import Row, attachment
from oncall_tui.core.replay.cursor import SNAPSHOT_EVERY, Cursor, until
from oncall_tui.core.timeline.model import SUSPECT, Timeline
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import get_incident
from oncall_tui.store.schema import JOURNAL_KIND_INDEXED as BY_KIND

_SELECT = "SELECT seq, ts, actor, kind, body FROM journal"


def _sql(*kinds: Kind) -> str:
    """Kinds as SQL literals: the planner sees the values (they are ours, never user input)."""
    return ", ".join(f"'{kind.value}'" for kind in sorted(kinds))


_STORY_KINDS = f"+kind IN ({_sql(*STORY_KINDS)})"
"""Every kind the fold of a story uses (deliveries of raw payloads and the like are left out).
The ``+`` keeps SQLite on the seq range: rows must come in journal order."""
_RawRow = tuple[int, str, str, str, str]


@dataclass(frozen=True)
class Scope:
    """What a story's rows may name. Growing it means older rows are needed: read it all anew."""

    incidents: frozenset[str]
    sessions: frozenset[str]
    pushes: frozenset[str]
    deploys: frozenset[int] = frozenset()
    """The incident's suspect deploys (signal ids) whose commits are known."""
    commits: frozenset[str] = frozenset()
    """The shas those deploys shipped: which ``commit.recorded`` rows are the story's."""


def story_scope(store: Store, incident_id: str) -> Scope:
    """The incident's sessions (every push of it names them), and what else they were told."""
    proposals = [
        json.loads(body)["push"]
        for (body,) in store.conn.execute(
            f"SELECT body FROM journal WHERE kind = {_sql(Kind.PUSH_PROPOSED)} AND {BY_KIND}"
            " ORDER BY seq"
        )
    ]

    def targets(push: dict[str, Any]) -> set[str]:
        return {str(t) for t in [push.get("session_id"), *push.get("recipients", [])] if t}

    sessions = set().union(*(targets(p) for p in proposals if p["incident_id"] == incident_id))
    told = [p for p in proposals if p["incident_id"] == incident_id or targets(p) & sessions]
    ranges = _suspect_ranges(store, incident_id)
    return Scope(
        incidents=frozenset({incident_id, *(str(p["incident_id"]) for p in told)}),
        sessions=frozenset(sessions),
        pushes=frozenset(str(p["id"]) for p in told),
        deploys=frozenset(ranges),
        commits=frozenset(sha for shas in ranges.values() for sha in shas),
    )


def _suspect_ranges(store: Store, incident_id: str) -> dict[int, list[str]]:
    """The resolved ranges of the incident's suspect deploys: signal id → shas shipped."""
    rows = store.conn.execute(
        "SELECT d.signal_id, json_extract(d.data, '$.shas') FROM change_links l"
        " JOIN deploy_ranges d ON d.signal_id = l.signal_id"
        " WHERE l.incident_id = ? AND l.relation = ?",
        (incident_id, SUSPECT),
    ).fetchall()
    return {int(signal_id): [str(s) for s in json.loads(shas or "[]")] for signal_id, shas in rows}


def load_story(store: Store, scope: Scope, after: int = 0) -> list[Row]:
    """The rows of the story with ``seq > after``, in journal order."""
    # Performance: what is read is kept (the rows) or freed as it goes, so a collection
    # meanwhile frees nothing: a fifth to a third of opening a 100,000-event replay.
    with collector.paused():
        return _load_story(store, scope, after)


def _load_story(store: Store, scope: Scope, after: int) -> list[Row]:
    opened = _first_seq(store, Kind.INCIDENT_OPENED, "$.incident_id", scope.incidents)
    start = max(after, opened - 1)
    raw = store.conn.execute(
        f"{_SELECT} WHERE seq > ? AND {_STORY_KINDS} ORDER BY seq", (start,)
    ).fetchall()
    picked, signal_ids = _pick(raw, scope)
    early = _before(store, scope, signal_ids, after, start) if start > after else []
    return [_row(r) for r in early] + [
        row for row in picked if row.kind != Kind.SIGNAL_RECORDED or row.seq in signal_ids
    ]


def _row(raw: _RawRow) -> Row:
    # fromisoformat reads the store's own form (iso(): UTC with Z) at half the cost of from_iso.
    seq, ts, actor, kind, body = raw
    return Row(seq, datetime.fromisoformat(ts), actor, kind, body)


def _pick(raw: list[_RawRow], scope: Scope) -> tuple[list[Row], set[int]]:
    """The story's rows among ``raw`` (with every signal: which are the story's is known only
    once the attachments after them are read), and the signals its incident rows name.

    One pass over what a storm wrote, so attachments are read without ``json.loads``.
    """
    signal_ids: set[int] = set()
    picked: list[Row] = []
    parse = datetime.fromisoformat
    for seq, ts, actor, kind, body in raw:
        if kind == Kind.SIGNAL_RECORDED:
            mine = True
        elif kind == Kind.INCIDENT_SIGNAL_ATTACHED:
            incident, signal_id = attachment(body)
            mine = incident in scope.incidents
            if mine:
                signal_ids.add(signal_id)
        else:
            data = json.loads(body)
            if kind in INCIDENT_KINDS:
                mine = data["incident_id"] in scope.incidents
                if mine and "signal_id" in data:
                    signal_ids.add(int(data["signal_id"]))
            elif kind == Kind.PUSH_PROPOSED:
                mine = data["push"]["id"] in scope.pushes
            elif kind in PUSH_KINDS:
                mine = data.get("push_id") in scope.pushes
            elif kind == Kind.GUARD_DECIDED:
                mine = data.get("incident_id") in scope.incidents
            elif kind == Kind.DEPLOY_RANGE_RESOLVED:
                mine = data.get("signal_id") in scope.deploys
            elif kind == Kind.COMMIT_RECORDED:
                mine = data.get("sha") in scope.commits
            elif kind in SESSION_KINDS or kind == Kind.CONTEXT_DELIVERED:
                mine = (
                    data.get("session_id") or data.get("session", {}).get("id")
                ) in scope.sessions
            else:
                mine = True  # the catalog and the notes
        if mine:
            picked.append(Row(seq, parse(ts), actor, kind, body))
    return picked, signal_ids


def _before(
    store: Store, scope: Scope, signal_ids: set[int], after: int, start: int
) -> list[_RawRow]:
    """What the fold needs from before the incident opened: the sessions' history, signals
    recorded earlier (suspect changes, a resolve that overtook its trigger), catalog, notes."""
    sessions = _json(scope.sessions)
    conn = store.conn
    window = "seq > ? AND seq <= ?"
    born = max(
        after, _first_seq(store, Kind.SESSION_REGISTERED, "$.session.id", scope.sessions) - 1
    )
    # Each branch of an OR names the index's own term: SQLite looks up a branch in a partial
    # index only when the branch itself implies the index's WHERE.
    found: list[_RawRow] = conn.execute(
        f"{_SELECT} WHERE {window} AND ((kind = {_sql(Kind.SESSION_REGISTERED)} AND {BY_KIND}"
        " AND json_extract(body, '$.session.id') IN (SELECT value FROM json_each(?))) OR (kind IN"
        f" ({_sql(Kind.SESSION_SEEN, Kind.SESSION_ENDED, Kind.CONTEXT_DELIVERED)}) AND {BY_KIND}"
        " AND json_extract(body, '$.session_id') IN (SELECT value FROM json_each(?))))",
        (born, start, sessions, sessions),
    ).fetchall()
    # The agent's commit and the resolved range of a suspect deploy come before the opening.
    found += conn.execute(
        f"{_SELECT} WHERE {window} AND ((kind = {_sql(Kind.COMMIT_RECORDED)} AND {BY_KIND}"
        " AND json_extract(body, '$.sha') IN (SELECT value FROM json_each(?))) OR (kind ="
        f" {_sql(Kind.DEPLOY_RANGE_RESOLVED)} AND {BY_KIND} AND json_extract(body, '$.signal_id')"
        " IN (SELECT value FROM json_each(?))))",
        (after, start, _json(scope.commits), _json(scope.deploys)),
    ).fetchall()
    found += conn.execute(
        f"{_SELECT} WHERE {window} AND kind IN ({_sql(Kind.CATALOG_LOADED, *NOTE_KINDS)})"
        f" AND {BY_KIND}",
        (after, start),
    ).fetchall()
    # Signals are not in the index by kind: found by their seq, which is their id.
    found += conn.execute(
        f"{_SELECT} WHERE {window} AND seq IN (SELECT value FROM json_each(?))"
        f" AND kind = {_sql(Kind.SIGNAL_RECORDED)}",
        (after, start, _json(signal_ids)),
    ).fetchall()
    return sorted(found)


class StorySource:
    """One incident's replay over a DB that may still be written to."""

    def __init__(self, store: Store, incident_ref: str) -> None:
        self.store = store
        self.incident_id = get_incident(store.conn, incident_ref).id
        self.scope = story_scope(store, self.incident_id)
        self._seen = store.max_seq()
        self._rows = load_story(store, self.scope)

    def timeline(self, point: datetime | int | None = None) -> Timeline:
        """The story, whole or cut at a time or a seq (``--at``)."""
        return Timeline(self.incident_id, self._rows if point is None else until(self._rows, point))

    def open(self, snapshot_every: int = SNAPSHOT_EVERY) -> Cursor:
        return Cursor(self.timeline(), snapshot_every=snapshot_every)

    def refresh(self, cursor: Cursor) -> Cursor:
        """Bring ``cursor`` up to the journal: extended in place, or (when the story now reaches
        back to older rows, e.g. a new session was told) a new cursor at the same position."""
        latest = self.store.max_seq()
        if latest == self._seen:
            return cursor
        scope = story_scope(self.store, self.incident_id)
        new = load_story(self.store, scope, after=self._seen)
        loaded = {r.seq for r in self._rows if r.kind == Kind.SIGNAL_RECORDED}
        named = {
            int(body["signal_id"])
            for body in (json.loads(r.body) for r in new if r.kind in INCIDENT_KINDS)
            if "signal_id" in body
        }
        reaches_back = any(s <= self._seen and s not in loaded for s in named)
        grown = (scope.incidents, scope.sessions, scope.commits) != (
            self.scope.incidents,
            self.scope.sessions,
            self.scope.commits,
        )
        self._seen, self.scope = latest, scope
        if grown or reaches_back:
            self._rows = load_story(self.store, scope)
            fresh = Cursor(
                Timeline(self.incident_id, self._rows), snapshot_every=cursor.snapshot_every
            )
            fresh.seek_seq(cursor.event.seq)
            cursor.release()
            return fresh
        self._rows += new
        cursor.extend(new)
        return cursor


def incidents_between(store: Store, since: datetime, until: datetime) -> list[str]:
    """Incidents opened in the window, oldest first: a weekly review's list."""
    rows = store.conn.execute(
        "SELECT id FROM incidents WHERE opened_at >= ? AND opened_at <= ?"
        " ORDER BY opened_at, number",
        (iso(since), iso(until)),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _first_seq(store: Store, kind: Kind, path: str, ids: Iterable[str]) -> int:
    """Where the first row of ``kind`` naming one of ``ids`` is (its rows cannot come earlier)."""
    row = store.conn.execute(
        f"SELECT min(seq) FROM journal WHERE kind = ? AND {BY_KIND}"
        " AND json_extract(body, ?) IN (SELECT value FROM json_each(?))",
        (kind.value, path, _json(ids)),
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 1


def _json(values: Iterable[object]) -> str:
    return json.dumps(sorted(values, key=str))
