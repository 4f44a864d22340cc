"""``?``: every key of the current screens, generated from their bindings (remaps included)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Close", id="close-help"),
        Binding("question_mark", "app.pop_screen", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static(self._keys(), markup=False)

    def _keys(self) -> Text:
        """Our bindings (those with an id: the remappable ones) first, then the screen's others."""
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 else None
        active = list(below.active_bindings.values()) if below else []
        ours = [b for b in active if b[1].id]
        others = [b for b in active if not b[1].id and b[1].description]
        text = Text("Keys\n\n", style="bold")
        seen: set[str] = set()
        rows = []
        for _, binding, enabled, tooltip in ours + others:
            if binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            rows.append((key, binding.description, tooltip or binding.tooltip or "", enabled))
        # Columns as wide as their longest entry plus a gap: a long key (ctrl+shift+p) or a
        # long description never runs into the next column.
        key_width = max((len(row[0]) for row in rows), default=0) + 2
        description_width = max((len(row[1]) for row in rows), default=0) + 2
        for key, description, tooltip_text, enabled in rows:
            style = "" if enabled else "dim"
            text.append(f"  {key:<{key_width}}", style=f"bold {style}")
            line = f"{description:<{description_width}}{tooltip_text}".rstrip()
            text.append(line + "\n", style=style)
        text.append('\nKeys are remapped in the config: [ui.keymap] approve = "y"\n', style="dim")
        return text
