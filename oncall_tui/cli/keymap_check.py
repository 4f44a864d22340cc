"""``[ui.keymap]`` checked against the dashboard's own bindings before it starts.

A remap onto a key another action of the same screen already uses leaves one of the two
unreachable, and a misspelt action id changes nothing: both would pass silently at 3 a.m.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from textual.app import App
from textual.binding import Binding, BindingType

from oncall_tui.tui.app import OncallApp
from oncall_tui.tui.screens.broadcast_modal import BroadcastModal
from oncall_tui.tui.screens.edit_modal import EditModal
from oncall_tui.tui.screens.help import HelpScreen
from oncall_tui.tui.screens.incident_detail import IncidentDetailScreen
from oncall_tui.tui.screens.main import MainScreen
from oncall_tui.tui.screens.note_modal import NoteModal
from oncall_tui.tui.screens.notes import NotesScreen
from oncall_tui.tui.screens.reject_modal import RejectModal
from oncall_tui.tui.screens.replay import JumpModal, ReplayScreen
from oncall_tui.tui.screens.session_detail import SessionDetailScreen

SCREEN_BINDINGS: tuple[list[BindingType], ...] = (
    MainScreen.BINDINGS,
    ReplayScreen.BINDINGS,
    JumpModal.BINDINGS,
    IncidentDetailScreen.BINDINGS,
    SessionDetailScreen.BINDINGS,
    NotesScreen.BINDINGS,
    HelpScreen.BINDINGS,
    EditModal.BINDINGS,
    BroadcastModal.BINDINGS,
    NoteModal.BINDINGS,
    RejectModal.BINDINGS,
)
"""What is active together: each screen's bindings, with the app's own on every screen."""


def keymap_problems(
    keymap: Mapping[str, str],
    screens: Iterable[list[BindingType]] = SCREEN_BINDINGS,
    app_bindings: list[BindingType] = [*App.BINDINGS, *OncallApp.BINDINGS],  # noqa: B006
) -> list[str]:
    """Unknown action ids and keys two actions of one screen would share, in our words."""
    normal = App._normalize_keymap(dict(keymap))
    groups = [list(Binding.make_bindings([*app_bindings, *screen])) for screen in screens]
    known = sorted({b.id for group in groups for b in group if b.id})
    problems = [_unknown(action, known) for action in keymap if action not in known]
    clashes: dict[tuple[str, str, str], None] = {}
    for group in groups:
        owner: dict[str, str] = {}
        for binding in group:
            name = binding.id or binding.action
            remapped = binding.id in normal if binding.id else False
            keys = normal[binding.id].split(",") if remapped and binding.id else [binding.key]
            for key in (k.strip() for k in keys):
                first = owner.setdefault(key, name)
                if first != name and (remapped or first in normal):
                    clashes[(key, first, name)] = None
    problems += [f"{key!r} is bound to both {a!r} and {b!r}" for key, a, b in clashes]
    return problems


def _unknown(action: str, known: list[str]) -> str:
    close = difflib.get_close_matches(action, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return f"unknown action {action!r} ({hint})"
