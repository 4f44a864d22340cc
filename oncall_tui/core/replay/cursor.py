"""Replay: the projection folded up to a point of the journal, and a cursor that moves the point.

The state at a point is :func:`~oncall_tui.core.projection.fold` of the journal up to it, the
fold the live projection runs, so a replay shows what the dashboard knew then. The cursor makes
it interactive on large incidents: it folds forward from where it stands, and keeps snapshots of
the state every ``snapshot_every`` rows (:mod:`~oncall_tui.core.replay.snapshots`), so going back is a
short fold from the nearest one rather than one from zero. :meth:`Cursor.warm` folds ahead in
small slices (the screen calls it while idle), so that far jumps also land within one interval.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Protocol, TypeVar

from oncall_tui.core import collector
from oncall_tui.core.journal import JournalEntry
from oncall_tui.core.journal_rows import Row
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.projection import apply, fold
from oncall_tui.core.replay.snapshots import Snapshots
from oncall_tui.core.timeline.model import Milestone, Timeline, TimelineEvent

SNAPSHOT_EVERY = 250
"""Rows between two snapshots of the state: a step back folds at most this many rows."""
FULL_EVERY = 16
"""One snapshot in this many is a full copy; the others hold what changed (see snapshots)."""
KEPT_FOLD_ROWS = 1_000
"""A fold of at least this many rows (a slice of :meth:`Cursor.warm`, a far jump) runs with
the garbage collector paused, and what it made is then left out of the collector's scans until
:meth:`Cursor.release` (:mod:`~oncall_tui.core.collector`). Performance: the fold keeps what it
makes (states, snapshots, parsed entries), so every collection during it freed nothing, and
those of the oldest generation went over the whole story's state: 1.7-2.3 s of a 4.8-6.4 s
cold jump to the end of a 100,000-event incident, then a full scan of ~0.5 s every so often
while the replay stayed open. A step folds at most ``snapshot_every`` rows, and runs as any
code does."""


class _Positioned(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> datetime: ...


P = TypeVar("P", bound=_Positioned)


def until(items: Iterable[P], point: datetime | int) -> Iterator[P]:
    """The journal up to ``point``: a ``seq`` (inclusive), or a time.

    Up to a time means every entry before the first one written after it: the journal's order is
    the truth, so an entry stamped by a clock running behind never pulls later ones in.
    """
    if isinstance(point, datetime):
        return takewhile(lambda item: item.ts <= point, items)
    return takewhile(lambda item: item.seq <= point, items)


def state_at(entries: Iterable[JournalEntry], point: datetime | int) -> MemoryTables:
    """The projection as it was at ``point``: the live fold, run from empty up to there."""
    tables = MemoryTables()
    fold(until(entries, point), tables)
    return tables


def walk(timeline: Timeline) -> Iterator[tuple[TimelineEvent, MemoryTables]]:
    """Each event with the state right after it, in one forward fold (exports, exposure).

    The state object is reused: read what you need from it before taking the next pair.
    """
    tables = MemoryTables()
    folded = 0
    for event in timeline.events:
        fold((row.entry() for row in timeline.rows[folded : event.row_index + 1]), tables)
        folded = event.row_index + 1
        yield event, tables


class Cursor:
    """A position in a :class:`Timeline`: an event, a time, and the state after that event.

    Moves are cheap (they change the position); :attr:`state` folds on first read after a move.
    Not thread-safe: moves, :meth:`warm` and :meth:`extend` belong to one thread.
    """

    def __init__(
        self,
        timeline: Timeline,
        *,
        snapshot_every: int = SNAPSHOT_EVERY,
        full_every: int = FULL_EVERY,
        index: int = 0,
    ) -> None:
        if not timeline.events:
            raise ValueError(f"{timeline.incident_id} has no events to replay")
        self.timeline = timeline
        self.snapshot_every = snapshot_every
        self._snapshots = Snapshots(snapshot_every, full_every)
        self._folded, self._tables = self._snapshots.restore(0)
        """Rows folded into ``_tables``."""
        self._ahead: tuple[int, MemoryTables] | None = None
        """Where :meth:`warm` stopped, and its own state."""
        self._parsed: dict[int, JournalEntry] = {}
        """Recently folded rows, parsed (oldest first)."""
        self._frozen = collector.FreezeHold()
        self.index = 0
        self.at = timeline.events[0].ts
        self.seek(index)

    # --- where the cursor is ------------------------------------------------------------

    @property
    def event(self) -> TimelineEvent:
        return self.timeline.events[self.index]

    @property
    def state(self) -> MemoryTables:
        """The projection right after the current event. Read-only for callers: it is reused."""
        self._materialize(self.event.row_index + 1)
        return self._tables

    # --- moves --------------------------------------------------------------------------

    def seek(self, index: int, at: datetime | None = None) -> TimelineEvent:
        """Go to event ``index`` (clamped); the clock shows ``at`` or the event's time."""
        events = self.timeline.events
        self.index = min(max(index, 0), len(events) - 1)
        self.at = at if at is not None else events[self.index].ts
        return self.event

    def seek_seq(self, seq: int) -> TimelineEvent:
        """The last event at or before journal position ``seq``."""
        return self.seek(self.timeline.index_of_seq(seq))

    def seek_time(self, when: datetime) -> TimelineEvent:
        """The last event at or before ``when``; the clock shows ``when`` (within the story)."""
        times = self.timeline.times
        when = min(max(when, times[0]), times[-1])
        return self.seek(self.timeline.index_at(when), when)

    def step(self, count: int = 1) -> TimelineEvent:
        """``count`` events forward (negative: back)."""
        return self.seek(self.index + count)

    def step_time(self, delta: timedelta) -> TimelineEvent:
        """Move the clock by ``delta`` (e.g. ±1 min, ±10 min) and show the state then."""
        return self.seek_time(self.at + delta)

    def step_kind(self, kind: str, *, forward: bool = True) -> TimelineEvent | None:
        """The next (or previous) event of ``kind``: a kind, or a prefix such as ``push``."""
        rows, positions = self.timeline.rows, self.timeline.positions
        order = range(self.index + 1, len(positions)) if forward else range(self.index - 1, -1, -1)
        prefix = kind + "."
        for index in order:  # reads the rows' kinds: no event is made for the ones passed over
            found = rows[positions[index]].kind
            if found == kind or found.startswith(prefix):
                return self.seek(index)
        return None

    def next_milestone(self) -> TimelineEvent | None:
        marks = self.timeline.milestones
        found = bisect_right(marks, self.index)
        return self.seek(marks[found]) if found < len(marks) else None

    def previous_milestone(self) -> TimelineEvent | None:
        marks = self.timeline.milestones
        found = bisect_right(marks, self.index - 1) - 1
        return self.seek(marks[found]) if found >= 0 else None

    def jump(self, name: str) -> TimelineEvent | None:
        """The next event marked ``name`` ("first agent told", "deploy", "rollback",
        "resolved", or any other milestone), wrapping to the first; None if there is none."""
        milestone = Milestone(name)
        events = self.timeline.events
        marked = [i for i in self.timeline.milestones if events[i].milestone is milestone]
        if not marked:
            return None
        later = [i for i in marked if i > self.index]
        return self.seek(later[0] if later else marked[0])

    # --- a journal still being written --------------------------------------------------

    def extend(self, rows: Sequence[Row]) -> list[TimelineEvent]:
        """Rows written since the timeline was read; the position and snapshots stay valid."""
        return self.timeline.extend(rows)

    def warm(self, budget: int = 2000) -> bool:
        """Fold up to ``budget`` rows past the last snapshot, taking snapshots on the way.

        True once every row is within one snapshot interval, i.e. any move costs at most
        ``snapshot_every`` rows of folding (plus a restore).
        """
        snapshots, rows = self._snapshots, self.timeline.rows
        if self._ahead is None or self._ahead[0] < snapshots.last:
            self._ahead = snapshots.restore(snapshots.last)
        count, tables = self._ahead
        stop = min(len(rows), count + budget)
        self._fold(tables, count, stop)
        self._ahead = (stop, tables)
        return len(rows) - snapshots.last < self.snapshot_every

    # --- folding ------------------------------------------------------------------------

    def _materialize(self, count: int) -> None:
        """Make ``_tables`` the state after ``count`` rows, by the shorter of two folds: on from
        the current state, or on from the nearest snapshot at or before ``count``."""
        if count == self._folded:
            return
        base = self._snapshots.base(count)
        if not (self._folded <= count and count - self._folded <= count - base):
            self._folded, self._tables = self._snapshots.restore(count)
        self._fold(self._tables, self._folded, count, keep=True)
        self._folded = count

    def release(self) -> None:
        """Give what the folds made back to the garbage collector's scans (the replay is
        closed, or replaced by another cursor); the cursor still works."""
        self._frozen.release()

    def _fold(self, tables: MemoryTables, start: int, stop: int, *, keep: bool = False) -> None:
        """Fold rows ``start:stop`` into ``tables``, taking snapshots on new ground. With
        ``keep``, parsed entries are kept for the next fold of the same rows (stepping back
        event by event folds them again from the same snapshot), up to two intervals' worth."""
        if stop - start < KEPT_FOLD_ROWS:
            self._fold_rows(tables, start, stop, keep=keep)
            return
        with collector.paused():
            self._fold_rows(tables, start, stop, keep=keep)
            # Before the collector is back: its first collection would go over all of it.
            self._frozen.renew()

    def _fold_rows(self, tables: MemoryTables, start: int, stop: int, *, keep: bool) -> None:
        rows, parsed, snapshots = self.timeline.rows, self._parsed, self._snapshots
        for position in range(start, stop):
            entry = parsed.get(position)
            if entry is None:
                entry = rows[position].entry()
                if keep:
                    parsed[position] = entry
                    if len(parsed) > 2 * self.snapshot_every:
                        del parsed[next(iter(parsed))]
            apply(entry, tables)
            snapshots.passed(position + 1, tables)
