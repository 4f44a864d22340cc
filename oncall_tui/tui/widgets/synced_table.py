"""A DataTable that is kept in step with a list of rows without losing the cursor.

Live data arrives several times a second. Rebuilding the table would reset the cursor and the
scroll position under the engineer's hands; this applies the difference instead: changed cells
are updated in place, and only a change of row order rebuilds (restoring the cursor by key).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

Row = tuple[str, Sequence[Text]]
"""A row key and its cells. Cells are always ``Text``: a plain ``str`` would be parsed as markup."""


class SyncedTable(DataTable[Text]):
    DEFAULT_CSS = """
    SyncedTable { height: 1fr; }
    """

    COLUMNS: tuple[tuple[str, str, int], ...] = ()
    """(key, label, width) of each column. Fixed widths: auto widths are measured on idle and
    would differ with the timing of the first rows."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Text, ...]] = {}

    def on_mount(self) -> None:
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def row_keys_in_order(self) -> list[str]:
        return list(self._keys)

    @property
    def current_key(self) -> str | None:
        if not self._keys or not self.is_valid_row_index(self.cursor_row):
            return None
        return self._keys[self.cursor_row]

    def sync(self, rows: Sequence[Row]) -> None:
        keys = [key for key, _ in rows]
        if keys != self._keys:
            self._rebuild(rows)
            return
        columns = [key for key, _, _ in self.COLUMNS]
        for key, cells in rows:
            old = self._cells.get(key, ())
            new = tuple(cells)
            if old == new:
                continue
            for index, cell in enumerate(new):
                if index >= len(old) or old[index] != cell:
                    self.update_cell(key, columns[index], cell)
            self._cells[key] = new

    def _rebuild(self, rows: Sequence[Row]) -> None:
        current = self.current_key
        scroll_y = self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._keys = [key for key, _ in rows]
        self._cells = {key: tuple(cells) for key, cells in rows}
        if current is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.move_cursor(row=self.get_row_index(current), scroll=False)
        self.scroll_to(y=scroll_y, animate=False)
