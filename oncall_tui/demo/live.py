"""The demo played live in the dashboard: its steps in real time, each narrated in a toast."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from textual.app import App

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.demo.scenario import Scenario, ScenarioPlayer
from oncall_tui.store.journal import Store
from oncall_tui.tui.app import AppOptions
from oncall_tui.tui.background import watch_terminal
from oncall_tui.tui.run import make_app
from oncall_tui.tui.services import DashboardServices, Starter, Stop

log = logging.getLogger(__name__)


def run_demo_dashboard(settings: Settings, clock: Clock, scenario: Scenario) -> None:
    """The demo incident plays live in the dashboard, from its first step to the stand-downs."""
    start_at = clock.now()
    player = start_demo_player(scenario, settings, clock, start_at)
    options = AppOptions(background=(player, watch_terminal()))
    make_app(settings, clock, options=options).run()


def start_demo_player(
    scenario: Scenario, settings: Settings, clock: Clock, start_at: datetime
) -> Starter:
    """Plays the scenario in real time on its own thread and connection, narrating each step."""

    def start(app: App[None], services: DashboardServices) -> Stop:
        stop = threading.Event()

        def play() -> None:
            store = Store.open(settings.db, clock)
            try:
                player = ScenarioPlayer(scenario, store, settings, start_at)
                player.prepare()
                for step in scenario.steps:
                    delay = (start_at - clock.now()).total_seconds() + step.after_s
                    if delay > 0 and stop.wait(delay):
                        return
                    player.play(step)
                    app.call_from_thread(
                        app.notify, step.say, title="Demo", timeout=6, markup=False
                    )
            except Exception:
                log.exception("the demo scenario stopped")
            finally:
                store.close()

        thread = threading.Thread(target=play, name="oncall-demo", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(5)

        return halt

    return start
