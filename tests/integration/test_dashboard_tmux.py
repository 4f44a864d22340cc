"""The dashboard as an engineer sees it in a real terminal: run under tmux at 160x48, the screen
read back with ``capture-pane``, the long service name whole and the title readable.

tmux gives the dashboard a real pty of a fixed size and keeps the screen it drew
(https://man7.org/linux/man-pages/man1/tmux.1.html: ``new-session -x -y``, ``capture-pane -p``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.environment import without_our_variables
from tests.ui.long_names import LONG_SERVICE, LONG_TITLE, seed_long_names

COLS, ROWS = 160, 48
STARTUP_TIMEOUT_S = 30.0

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def tmux(socket: Path, *args: str) -> str:
    """One tmux command against this test's own server (never the user's)."""
    done = subprocess.run(
        ["tmux", "-S", str(socket), "-f", os.devnull, *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return done.stdout


def test_the_full_service_name_and_the_title_are_on_screen_at_160x48(tmp_path: Path) -> None:
    settings = seed_long_names(tmp_path)
    socket = tmp_path / "tmux.sock"
    env = without_our_variables()
    # Textual takes the size from these when they are set: they must say what the pty says.
    env.update(
        COLUMNS=str(COLS),
        LINES=str(ROWS),
        TERM="xterm-256color",
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
    )
    command = [sys.executable, "-m", "oncall_tui", "--db", str(settings.db)]
    subprocess.run(
        ["tmux", "-S", str(socket), "-f", os.devnull, "new-session", "-d", "-s", "dash"]
        + ["-x", str(COLS), "-y", str(ROWS), "--", *command],
        env=env,
        check=True,
        timeout=10,
    )
    screen = ""
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            screen = tmux(socket, "capture-pane", "-p", "-t", "dash")
            if LONG_SERVICE in screen and "Sessions affected by" in screen:
                break
            time.sleep(0.2)
        assert LONG_SERVICE in screen, screen
        assert LONG_TITLE[:30] in screen, screen
        lines = screen.splitlines()
        assert len(lines) <= ROWS and all(len(line) <= COLS for line in lines), screen
    finally:
        tmux(socket, "kill-server")
