"""Building and running the dashboard: one factory for the CLI, the demo and the tests."""

from __future__ import annotations

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.tui.app import AppOptions, OncallApp
from oncall_tui.tui.background import (
    start_exporter,
    start_receiver,
    watch_terminal,
)
from oncall_tui.tui.services import Starter


def make_app(
    settings: Settings, clock: Clock, *, serve: bool = False, options: AppOptions | None = None
) -> OncallApp:
    """The dashboard on ``settings.db``; with ``serve`` it also receives webhooks and polls."""
    base = options or AppOptions()
    background: list[Starter] = [start_exporter(settings, clock), *base.background]
    receiver_state = base.receiver_state
    if serve:
        background.insert(0, start_receiver(settings, clock))
        receiver_state = "receiver starting"
    opts = AppOptions(
        poll_interval_s=base.poll_interval_s,
        theme_state=base.theme_state,
        user_themes=base.user_themes,
        background=tuple(background),
        export_dir_label=base.export_dir_label or str(settings.export.dir),
        receiver_state=receiver_state,
    )
    return OncallApp(settings, clock=clock, options=opts)


def run_dashboard(settings: Settings, clock: Clock, *, serve: bool) -> None:
    options = AppOptions(background=(watch_terminal(),))
    make_app(settings, clock, serve=serve, options=options).run()
