"""The dashboard application: it assembles themes, the keymap, background services and the
screens, and is the :class:`~oncall_tui.tui.services.DashboardServices` it hands them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen
from textual.theme import Theme

from oncall_tui.actions import Rules
from oncall_tui.actor import engineer
from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock, SystemClock
from oncall_tui.store.journal_news import JournalNews
from oncall_tui.tui import themes
from oncall_tui.tui.commands import palette_providers
from oncall_tui.tui.engineer_actions import EngineerActions
from oncall_tui.tui.loader import Loader
from oncall_tui.tui.screens.help import HelpScreen
from oncall_tui.tui.screens.main import MainScreen
from oncall_tui.tui.services import Starter, Stop

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
    background: tuple[Starter, ...] = ()
    """Services started on mount (receiver, exporter, demo player); each returns its stop()."""
    export_dir_label: str = ""
    receiver_state: str = "receiver off"


class OncallApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "oncall-tui"
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
        self.loader = Loader(
            settings.db,
            self.clock,
            contact=settings.oncall.contact,
            keep_resolved_s=settings.ui.keep_resolved_s,
            settings=settings,
        )
        self.actions = EngineerActions(engineer(), self.rules)
        self.journal_news = JournalNews(settings.db)
        self.receiver_state = self.options.receiver_state
        self.export_dir_label = self.options.export_dir_label
        self._stops: list[Stop] = []
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
            self._stops.append(start(self, self))
        if self.poll_interval_s > 0:  # live: another engineer's decisions appear as they commit
            self.journal_news.start()
            self._stops.append(self.journal_news.stop)
        self.push_screen(MainScreen(self))
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
        self.push_screen(HelpScreen())

    def action_command_palette(self) -> None:
        """Textual's palette, with our incident and session providers bound to this app."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            providers = self.COMMANDS | palette_providers(self)
            self.push_screen(CommandPalette(providers, id="--command-palette"))
