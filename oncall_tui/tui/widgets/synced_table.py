"""A DataTable that is kept in step with a list of rows without losing the cursor.

Live data arrives several times a second. Rebuilding the table would reset the cursor and the
scroll position under the engineer's hands; this applies the difference instead: changed cells
are updated in place, and only a change of row order or of column widths rebuilds (restoring
the cursor by key).

Column widths follow the pane: they are fitted to the table's width and the cells' content
whenever either changes (:func:`~oncall_tui.tui.column_fit.fit_columns`), so the table never
scrolls sideways and a long cell ends in an ellipsis instead of pushing the rest off screen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from oncall_tui.tui.column_fit import ColumnFit, ColumnSpec, fit_columns

Row = tuple[str, Sequence[Text]]
"""A row key and its cells. Cells are always ``Text``: a plain ``str`` would be parsed as markup."""


class SyncedTable(DataTable[Text]):
    DEFAULT_CSS = """
    SyncedTable { height: 1fr; }
    """

    COLUMNS: tuple[ColumnSpec, ...] = ()
    """The columns in display order; their widths are fitted, never measured on idle (that
    would differ with the timing of the first rows)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # "renderable": the highlighted row keeps its cells' colours (a critical stays red).
        super().__init__(
            id=id,
            classes=classes,
            cursor_type="row",
            zebra_stripes=True,
            cursor_foreground_priority="renderable",
        )
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._fit: ColumnFit | None = None

    def on_mount(self) -> None:
        self._rebuild([], self._fitted([]))

    def on_resize(self, event: events.Resize) -> None:
        rows = [(key, self._cells[key]) for key in self._keys]
        fit = self._fitted(rows)
        if fit != self._fit:
            self._rebuild(rows, fit)

    @property
    def row_keys_in_order(self) -> list[str]:
        return list(self._keys)

    @property
    def current_key(self) -> str | None:
        if not self._keys or not self.is_valid_row_index(self.cursor_row):
            return None
        return self._keys[self.cursor_row]

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns the pane has room for, in display order."""
        shown = self._fit.shown if self._fit else ()
        return [self.COLUMNS[i].key for i in shown]

    def cell_of(self, row_key: str, column: str) -> Text:
        """A row's cell by column key, whether or not the pane has room to show the column."""
        index = [spec.key for spec in self.COLUMNS].index(column)
        return self._cells[row_key][index]

    def sync(self, rows: Sequence[Row]) -> None:
        keys = [key for key, _ in rows]
        fit = self._fitted(rows)
        if keys != self._keys or fit != self._fit:
            self._rebuild(rows, fit)
            return
        shown = fit.shown
        for key, cells in rows:
            old = self._cells.get(key, ())
            new = tuple(cells)
            if old == new:
                continue
            for index in shown:
                if index >= len(old) or old[index] != new[index]:
                    self.update_cell(key, self.COLUMNS[index].key, new[index])
            self._cells[key] = new

    def _fitted(self, rows: Sequence[Row]) -> ColumnFit:
        widths = [len(spec.label) for spec in self.COLUMNS]
        for _, cells in rows:
            for index, cell in enumerate(cells):
                widths[index] = max(widths[index], cell.cell_len)
        available = self.size.width
        if len(rows) + self.header_height > self.size.height:
            available -= self.styles.scrollbar_size_vertical  # room for the vertical scrollbar
        return fit_columns(self.COLUMNS, widths, max(available, 0), self.cell_padding)

    def _rebuild(self, rows: Sequence[Row], fit: ColumnFit) -> None:
        current = self.current_key
        scroll_y = self.scroll_y
        if fit != self._fit:
            self.clear(columns=True)
            for index, width in zip(fit.shown, fit.widths, strict=True):
                spec = self.COLUMNS[index]
                self.add_column(spec.label, key=spec.key, width=width)
            self._fit = fit
        else:
            self.clear()
        for key, cells in rows:
            self.add_row(*(cells[i] for i in fit.shown), key=key)
        self._keys = [key for key, _ in rows]
        self._cells = {key: tuple(cells) for key, cells in rows}
        if current is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.move_cursor(row=self.get_row_index(current), scroll=False)
        self.scroll_to(y=scroll_y, animate=False)
