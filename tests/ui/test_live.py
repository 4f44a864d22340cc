"""Rows written by another process appear live; hostile sender text never reaches the terminal."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from oncall_tui.tui.app import AppOptions, OncallApp
from tests.ui.conftest import NOW, settle

HOSTILE_TITLE = (
    "[link=https://evil.example]click me[/link] [/] [@click=app.quit]quit[/] [bold red]RESOLVED[/]"
    " \x1b]0;pwned\x07 \x1b]52;c;ZXZpbA==\x07 \x1b[2J \x1bP+q\x1b\\ \x9b6n \u202eevil\u202c zero\u200bwidth"
)
FORBIDDEN = [
    b"\x1b]0;pwned",
    b"\x1b]52;",
    b"evil.example\x1b\\",
    b";https://evil.example",
    b"\x1bP+q",
    b"\x9b6n",
]


def alert(service: str, title: str, alert_id: str) -> bytes:
    return json.dumps(
        {
            "routing_key": "r" * 32,
            "event_action": "trigger",
            "dedup_key": alert_id,
            "payload": {
                "summary": title,
                "source": "probe",
                "severity": "critical",
                "timestamp": "2026-11-23T02:59:00Z",
                "custom_details": {"service": service},
            },
        }
    ).encode()


def ingest_in_another_process(db: Path, body: bytes) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(db), "ingest", "events-v2", "-"],
        input=body,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()


async def test_rows_from_another_process_appear_live_with_a_toast(
    seeded: Settings, tmp_path: Path
) -> None:
    app = OncallApp(
        seeded,
        clock=FixedClock(NOW),
        options=AppOptions(
            poll_interval_s=0.2, theme_state=tmp_path / "ui.toml", user_themes=False
        ),
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#incidents")
        table.move_cursor(row=0)
        assert table.row_count == 1
        ingest_in_another_process(seeded.db, alert("checkout", "checkout is down", "chk-1"))
        deadline = time.monotonic() + 10
        while table.row_count < 2 and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert table.row_count == 2
        assert table.current_key == "INC-1", "the cursor stays on the row the engineer was on"
        assert any(
            n.title == "New critical incident" and "INC-2" in n.message for n in app._notifications
        )


async def test_hostile_title_renders_literally_in_every_segment(
    seeded: Settings, tmp_path: Path
) -> None:
    store = Store.open(seeded.db, FixedClock(NOW))
    Ingestor(store, seeded).ingest(
        "events-v2", alert("search", HOSTILE_TITLE, "evil-1"), {}, verify="none"
    )
    store.close()
    app = OncallApp(
        seeded,
        clock=FixedClock(NOW),
        options=AppOptions(poll_interval_s=0, user_themes=False, theme_state=tmp_path / "ui.toml"),
    )
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#incidents")
        table.move_cursor(row=table.get_row_index("INC-2"))
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "IncidentDetailScreen", (
            "no [@click=app.quit] action ran"
        )
        body = app.screen.query_one("#body")
        lines = [body.render_line(y) for y in range(body.size.height)]
        text = "".join(segment.text for strip in lines for segment in strip)
        assert "[link=https://evil.example]click me[/link]" in text
        assert "[bold red]RESOLVED[/]" in text
        assert not any(ch in text for ch in "\x1b\x9b\x07\u202e\u200b")
        assert all(
            segment.style is None or segment.style.link is None
            for strip in lines
            for segment in strip
        )


def test_hostile_title_never_reaches_the_terminal_bytes(seeded: Settings, tmp_path: Path) -> None:
    store = Store.open(seeded.db)
    Ingestor(store, seeded).ingest(
        "events-v2", alert("search", HOSTILE_TITLE, "evil-2"), {}, verify="none"
    )
    store.close()
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "200",
        "LINES": "50",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    pid, fd = pty.fork()
    if pid == 0:  # child: the real dashboard on the pty
        os.execve(sys.executable, [sys.executable, "-m", "oncall_tui", "--db", str(seeded.db)], env)
    output = bytearray()
    try:
        deadline = time.monotonic() + 20
        sent_enter = False
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    break
            if not sent_enter and b"search" in output:
                # The hostile incident is on screen; open it so the full title is drawn too.
                os.write(fd, b"G")
                os.write(fd, b"\r")
                sent_enter = True
                deadline = min(deadline, time.monotonic() + 4)
        os.write(fd, b"\x1b")
        time.sleep(0.3)
        os.write(fd, b"q")
        time.sleep(1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    assert b"search" in output, "the dashboard drew the hostile incident"
    for sequence in FORBIDDEN:
        assert sequence not in output, sequence
