"""Statements the PostgreSQL connection sends ahead of the next one that needs an answer.

Performance: each statement answered on its own is a round trip to the server, a wait during
which the writer does nothing else, and the receiver made seven per delivery. Inside a
transaction, what needs no answer (see :class:`~oncall_tui.store.pg.connection.PgConnection`
for which) is held back here and sent in psycopg's pipeline mode together with the next
statement that does: one round trip for all of them. And an ``executemany`` of an ``INSERT``
becomes a few statements of many rows each (:func:`inserts`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import chain
from typing import Any, TypeAlias

import psycopg

from oncall_tui.store.pg.translate import Translated

Parameters: TypeAlias = tuple[Any, ...] | list[tuple[Any, ...]]
"""One statement's parameters, or for ``executemany`` one tuple per row."""
MAX_ROWS_AT_ONCE = 64
"""Rows in one ``INSERT`` at most (:func:`many_rows`)."""


class Deferred:
    """A statement held back to be sent with the next one whose answer is needed."""

    __slots__ = ("_send_pending", "sql", "values", "many", "_cursor")

    def __init__(
        self,
        send_pending: Callable[[Deferred], None],
        sql: str,
        values: Parameters,
        many: bool,
    ) -> None:
        """``send_pending(statement)``: send what is held back, ``statement`` among it (unless
        it was dropped by a rollback), and wait for the answers."""
        self._send_pending = send_pending
        self.sql = sql
        self.values = values
        self.many = many
        self._cursor: psycopg.Cursor[Any] | None = None

    def send(self, conn: psycopg.Connection[Any]) -> None:
        """Queue it in ``conn``'s pipeline."""
        if self.many:
            self._cursor = conn.cursor()
            self._cursor.executemany(self.sql, self.values)
        else:
            self._cursor = conn.execute(self.sql, self.values or None)

    def rowcount(self) -> int:
        """Its row count, once sent and answered (-1 when rolled back unsent)."""
        if self._cursor is None:
            self._send_pending(self)
        return self._cursor.rowcount if self._cursor is not None else -1


def inserts(
    translated: Translated, batch: list[tuple[Any, ...]]
) -> list[tuple[str, Parameters, bool]]:
    """The statements that run ``translated`` for each row of ``batch``: (text, parameters,
    whether psycopg's ``executemany`` runs it).

    Rows go together where the translation allows (:func:`many_rows`),
    in statements of a power of two rows (a few texts, each prepared by psycopg once it is
    seen again), else one by one. Performance: psycopg's ``executemany`` binds and executes
    each row apart, ~15 µs of this process per row and ~90 per call; a row of a statement of
    several costs ~3–12 µs.
    """
    shape = translated.one_row
    keys = translated.distinct_on
    if (
        shape is None
        or not all(map(shape[2].__eq__, map(len, batch)))
        or (keys and len({tuple(row[i] for i in keys) for row in batch}) < len(batch))
    ):
        return [(translated.sql, batch, True)]
    statements: list[tuple[str, Parameters, bool]] = []
    start = 0
    while start < len(batch):
        size = min(MAX_ROWS_AT_ONCE, 1 << (len(batch) - start).bit_length() - 1)
        values = tuple(chain.from_iterable(batch[start : start + size]))
        statements.append((many_rows(translated, size), values, False))
        start += size
    return statements


@functools.lru_cache(maxsize=1024)
def many_rows(translated: Translated, rows: int) -> str:
    """``translated`` (see :attr:`~oncall_tui.store.pg.translate.Translated.one_row`)
    inserting ``rows`` rows of parameters."""
    if translated.one_row is None:
        raise ValueError(f"not an insert of one row of parameters: {translated.sql}")
    before, after, width = translated.one_row
    values = ", ".join(
        "(" + ", ".join(f"${row * width + column}" for column in range(1, width + 1)) + ")"
        for row in range(rows)
    )
    return f"{before}{values}{after}"
