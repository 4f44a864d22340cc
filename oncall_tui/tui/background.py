"""Services the dashboard can run beside itself: receiver and pollers, exporter,
and a watch on its terminal.

Each ``start_*`` returns a :data:`~oncall_tui.tui.services.Starter` for
``AppOptions.background``: it is called once the app is mounted and returns the function that
stops it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from textual.app import App

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.tui.services import DashboardServices, Starter, Stop

log = logging.getLogger(__name__)


def start_receiver(settings: Settings, clock: Clock) -> Starter:
    def start(app: App[None], services: DashboardServices) -> Stop:
        from oncall_tui.server.runner import ReceiverThread, check_bind

        check_bind(settings)
        receiver = ReceiverThread(settings, clock)
        port = receiver.start()
        services.receiver_state = f"receiving on {settings.server.host}:{port}"
        return receiver.stop

    return start


def start_exporter(settings: Settings, clock: Clock) -> Starter:
    def start(app: App[None], services: DashboardServices) -> Stop:
        from oncall_tui.agents.export.loop import ExportLoop

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

    def start(app: App[None], services: DashboardServices) -> Stop:
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
