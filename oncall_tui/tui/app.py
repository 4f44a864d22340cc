"""The dashboard application: screens, themes, keymap, and the workers that act on the store."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from oncall_tui.actions import Rules
from oncall_tui.actions import notes as note_actions
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions.incidents import change_incident_state, declare_freeze
from oncall_tui.cli.context import current_user
from oncall_tui.config import Settings
from oncall_tui.core.agents import AgentSession, NoteKind
from oncall_tui.core.clock import Clock, SystemClock
from oncall_tui.core.sanitize import clean
from oncall_tui.store.journal import Store
from oncall_tui.tui import themes
from oncall_tui.tui.commands import IncidentCommands, SessionCommands
from oncall_tui.tui.loader import Loader
from oncall_tui.tui.screens.main import MainScreen

log = logging.getLogger(__name__)

DEFAULT_THEME = "oncall-dark"


@dataclass(frozen=True)
class AppOptions:
    """How this run of the dashboard behaves beyond the settings (tests, demo, --serve)."""

    poll_interval_s: float | None = None
    """None: from the settings. 0 disables live polling (deterministic snapshots)."""
    theme_state: Path | None = None
    """Where the chosen theme is remembered (None: the XDG state dir)."""
    user_themes: bool = True
    background: tuple[Callable[[OncallApp], Callable[[], None]], ...] = ()
    """Services started on mount (receiver, exporter, demo player); each returns its stop()."""
    export_dir_label: str = ""
    receiver_state: str = "receiver off"


class OncallApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "oncall-tui"
    COMMANDS = App.COMMANDS | {IncidentCommands, SessionCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help", tooltip="All keys, from the bindings"),
    ]

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, options: AppOptions | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.options = options or AppOptions()
        self.clock: Clock = clock or SystemClock()
        self.rules = Rules.from_settings(settings)
        self.loader = Loader(settings.db, self.clock)
        self.actor = f"user:{current_user()}"
        self.receiver_state = self.options.receiver_state
        self.export_dir_label = self.options.export_dir_label
        self._stops: list[Callable[[], None]] = []
        self._theme_failures: list[tuple[Path, str]] = []
        self._mounted_once = False
        self._register_themes()

    @property
    def poll_interval_s(self) -> float:
        interval = self.options.poll_interval_s
        return self.settings.ui.poll_interval_s if interval is None else interval

    # --- themes -----------------------------------------------------------------------

    def _register_themes(self) -> None:
        dirs = [themes.shipped_themes_dir()]
        if self.options.user_themes:
            dirs.append(themes.user_themes_dir())
        loaded = themes.load_themes(*dirs)
        self._theme_failures = loaded.failures
        for theme in loaded.themes.values():
            self.register_theme(theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        theme = self.get_theme(self.theme) if hasattr(self, "_registered_themes") else None
        return themes.semantic_defaults(theme) if isinstance(theme, Theme) else {}

    def on_mount(self) -> None:
        chosen = (
            self.settings.ui.theme or themes.remembered_theme(self._theme_state()) or DEFAULT_THEME
        )
        self.theme = chosen if chosen in self.available_themes else DEFAULT_THEME
        for path, reason in self._theme_failures:
            self.notify(
                f"{path.name}: {reason}", title="Theme not loaded", severity="warning", markup=False
            )
        if self.settings.ui.keymap:
            self.set_keymap(self.settings.ui.keymap)
        for start in self.options.background:
            self._stops.append(start(self))
        self.push_screen(MainScreen())
        self._mounted_once = True

    def watch_theme(self, theme: str) -> None:
        if not self._mounted_once:
            return  # the initial choice is not a user's choice
        try:
            themes.remember_theme(self._theme_state(), theme)
        except OSError as exc:
            self.notify(f"could not remember the theme: {exc}", severity="warning", markup=False)

    def _theme_state(self) -> Path:
        return self.options.theme_state or themes.ui_state_path()

    def on_unmount(self) -> None:
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:  # shutting down: report, keep stopping the rest
                log.exception("stopping a background service failed")

    # --- actions ----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette lists what the keys do, for engineers who would rather type than recall."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for binding in screen.BINDINGS:
                if isinstance(binding, Binding) and binding.id and binding.tooltip:
                    yield SystemCommand(
                        binding.description,
                        binding.tooltip,
                        partial(screen.run_action, binding.action),
                    )

    def action_help(self) -> None:
        from oncall_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    @work(thread=True, group="actions", exit_on_error=False)
    def perform(self, success: str, name: str, *args: Any) -> None:
        """Run one engineer action on its own connection; report the outcome as a toast."""
        store = self.loader.open()
        try:
            ACTIONS[name](self, store, *args)
        except Exception as exc:  # every failure is shown, none is lost silently
            # Messages may quote what a sender named (a service, a title): sanitised first.
            self.call_from_thread(
                self.notify, clean(str(exc), 500), title="Not done", severity="error", markup=False
            )
            return
        finally:
            store.close()
        self.call_from_thread(self.notify, success, markup=False)
        self.call_from_thread(self._refresh_main)

    def _refresh_main(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.refresh_data(force=True)

    def broadcast_audience(self) -> list[AgentSession]:
        store = self.loader.open()
        try:
            return push_actions.broadcast_audience(store, self.rules)
        finally:
            store.close()


def _approve(app: OncallApp, store: Store, push_id: str) -> None:
    push_actions.approve(store, push_id, app.actor, app.rules)


def _reject(app: OncallApp, store: Store, push_id: str, reason: str) -> None:
    push_actions.reject(store, push_id, app.actor, reason)


def _edit(app: OncallApp, store: Store, push_id: str, text: str) -> None:
    push_actions.edit(store, push_id, app.actor, text)


def _broadcast(app: OncallApp, store: Store, incident_id: str, message: str) -> None:
    push_actions.broadcast(store, incident_id, message, app.actor, app.rules)


def _incident_state(app: OncallApp, store: Store, incident_id: str, state: Any) -> None:
    change_incident_state(store, incident_id, state, app.actor, app.rules)


def _freeze(app: OncallApp, store: Store, incident_id: str, frozen: bool) -> None:
    declare_freeze(store, incident_id, frozen, app.actor, app.rules)


def _add_note(app: OncallApp, store: Store, incident_id: str, fields: dict[str, Any]) -> None:
    note_actions.add_note(
        store,
        author=app.actor,
        kind=NoteKind(fields["kind"]),
        text=fields["text"],
        service=fields.get("service") or None,
        incident_id=None if fields.get("service") else incident_id,
        rationale=fields.get("rationale", ""),
    )


ACTIONS: dict[str, Callable[..., None]] = {
    "approve_push": _approve,
    "reject_push": _reject,
    "edit_push": _edit,
    "broadcast": _broadcast,
    "incident_state": _incident_state,
    "add_note": _add_note,
    "freeze": _freeze,
}
