"""Services the dashboard can run beside itself: receiver and pollers, exporter, demo player,
and a watch on its terminal.

Each ``start_*`` returns a starter for :class:`~oncall_tui.tui.app.AppOptions.background`: it
is called once the app is mounted and returns the function that stops it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.scenario import Scenario, ScenarioPlayer
from oncall_tui.store.journal import Store

if TYPE_CHECKING:
    from oncall_tui.tui.app import OncallApp

log = logging.getLogger(__name__)

Starter = Callable[["OncallApp"], Callable[[], None]]


def start_receiver(settings: Settings, clock: Clock) -> Starter:
    def start(app: OncallApp) -> Callable[[], None]:
        from oncall_tui.server.runner import ReceiverThread, check_bind

        check_bind(settings)
        receiver = ReceiverThread(settings, clock)
        port = receiver.start()
        app.receiver_state = f"receiving on {settings.server.host}:{port}"
        return receiver.stop

    return start


def start_exporter(settings: Settings, clock: Clock) -> Starter:
    def start(app: OncallApp) -> Callable[[], None]:
        from oncall_tui.agents.export_loop import ExportLoop

        loop = ExportLoop(settings.db, settings, clock=clock)
        loop.start()
        return loop.stop

    return start


HANGUP_CHECK_S = 1.0


def watch_terminal() -> Starter:
    """Quit when the terminal goes away without a SIGHUP.

    A dashboard that is not its terminal's controlling process (started by a script, ``setsid``,
    some multiplexers) gets no SIGHUP when the terminal closes; Textual's input thread then reads
    end-of-file forever and spins a core. A hung-up terminal fails ``isatty`` (EIO), so we check.
    """

    def start(app: OncallApp) -> Callable[[], None]:
        stream = sys.__stdin__
        fd = stream.fileno() if stream is not None else -1
        stop = threading.Event()
        if fd < 0 or not os.isatty(fd):
            return stop.set  # not on a terminal (tests, pipes): nothing to watch

        def watch() -> None:
            while not stop.wait(HANGUP_CHECK_S):
                if not os.isatty(fd):
                    log.warning("the terminal went away; quitting")
                    app.call_from_thread(app.exit, None, 129)  # 128 + SIGHUP, as a shell says
                    return

        threading.Thread(target=watch, name="oncall-terminal-watch", daemon=True).start()
        return stop.set

    return start


def start_demo_player(
    scenario: Scenario, settings: Settings, clock: Clock, start_at: datetime
) -> Starter:
    """Plays the scenario in real time on its own thread and connection, narrating each step."""

    def start(app: OncallApp) -> Callable[[], None]:
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
