"""Copies of a replay's state along the journal, cheap to keep and quick to restore.

Stepping back must not fold from zero, so the state is kept every ``every`` rows. A full copy of
a storm's state (tens of thousands of signals) costs megabytes, so only every ``full_every``-th
snapshot is full; the others hold just the entities the fold put since the previous one. The
tables record those as they are written (:class:`RecordingDict`), so taking a snapshot costs
what changed, not what exists. Restoring is one full copy plus a few small updates.

This relies on the fold writing entities by key (``table[key] = entity``) or replacing a whole
table (the catalog), and never changing an entity in place: it puts a new one.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from oncall_tui.core.memory import MemoryTables

Table = dict[Any, Any]


class RecordingDict(Table):
    """A table that remembers what was put into it since the last snapshot."""

    __slots__ = ("touched",)

    def __init__(self, entries: Table) -> None:
        super().__init__(entries)
        self.touched: Table = {}

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.touched[key] = value


class Snapshots:
    """The state after 0, ``every``, 2 × ``every``... rows, as far as the fold has gone."""

    def __init__(self, every: int, full_every: int) -> None:
        self.every = every
        self.full_every = full_every
        self.counts: list[int] = [0]
        empty: dict[str, Table] = {name: {} for name in vars(MemoryTables())}
        self._full: dict[int, dict[str, Table]] = {0: empty}
        self._full_counts: list[int] = [0]
        self._deltas: dict[int, dict[str, tuple[bool, Table]]] = {}
        """Per snapshot: per table, (replaced whole?, the entries put since the previous one)."""

    @property
    def last(self) -> int:
        return self.counts[-1]

    def base(self, count: int) -> int:
        """The last snapshot at or before ``count`` rows."""
        return self.counts[bisect_right(self.counts, count) - 1]

    def passed(self, done: int, tables: MemoryTables) -> None:
        """Called after each row folded into ``tables``: at a boundary, keep a snapshot if it is
        new ground, and start recording afresh."""
        if done % self.every:
            return
        state = vars(tables)
        if done > self.last:
            self.counts.append(done)
            if (done // self.every) % self.full_every == 0:
                self._full[done] = {name: dict(table) for name, table in state.items()}
                self._full_counts.append(done)
            else:
                self._deltas[done] = {
                    name: (False, dict(table.touched))
                    if isinstance(table, RecordingDict)
                    else (True, dict(table))
                    for name, table in state.items()
                    if not isinstance(table, RecordingDict) or table.touched
                }
        for name, table in state.items():
            if isinstance(table, RecordingDict):
                table.touched = {}
            else:
                setattr(tables, name, RecordingDict(table))

    def restore(self, count: int) -> tuple[int, MemoryTables]:
        """A fresh state at the last snapshot at or before ``count``, ready to fold on."""
        target = self.base(count)
        full = self._full_counts[bisect_right(self._full_counts, target) - 1]
        state = {name: RecordingDict(table) for name, table in self._full[full].items()}
        for at in self.counts[bisect_right(self.counts, full) : bisect_right(self.counts, target)]:
            for name, (whole, entries) in self._deltas[at].items():
                if whole:
                    state[name] = RecordingDict(entries)
                else:
                    state[name].update(entries)  # dict.update: not recorded, as it should not be
        tables = MemoryTables()
        for name, table in state.items():
            setattr(tables, name, table)
        return target, tables
