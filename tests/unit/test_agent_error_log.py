"""The agents' error log: what a line holds (and never holds), the cap on its size, that
writing it never raises, and the 24-hour count read back from its tail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oncall_tui.agents.error_log import (
    MAX_BYTES,
    MAX_FRAMES,
    RecentErrors,
    error_line,
    log_path,
    recent_errors,
    record,
    rotated_path,
)

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
SECRET = "sk-live-DO-NOT-LOG-4f9a"
"""Stands for whatever a payload may hold: a token in a prompt, a file's contents."""


def a_failure(message: str = f"could not parse {SECRET}") -> BaseException:
    """A real exception with a real traceback, its message quoting "payload"."""
    try:
        try:
            json.loads("{" + message)
        except ValueError as exc:
            raise RuntimeError(message) from exc
    except RuntimeError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "oncall.db"
    path.write_bytes(b"stands for the DB: the log is written only beside an existing file")
    return path


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_line_names_the_failure_and_where_but_not_its_message() -> None:
    line = error_line("hook claude-code", a_failure(), event="prompt", now=NOW)

    entry = json.loads(line)
    assert line.endswith("\n") and line.count("\n") == 1
    assert SECRET not in line and "could not parse" not in line
    assert entry["at"] == "2026-11-23T03:00:00.000+00:00"
    assert entry["component"] == "hook claude-code" and entry["event"] == "prompt"
    assert entry["error"] == "RuntimeError"
    assert entry["caused_by"] == ["json.decoder.JSONDecodeError"]
    frames = entry["frames"]
    assert isinstance(frames, list)
    assert frames[-1].startswith("unit/test_agent_error_log.py:")  # outside the package: two parts
    assert frames[-1].endswith(" a_failure")
    assert not any(str(Path.home()) in frame for frame in frames)


def test_an_event_or_component_that_is_not_a_plain_name_is_dropped() -> None:
    odd = f"prompt {SECRET} \n"
    line = error_line(f"hook {odd}", a_failure(), event=odd, now=NOW)

    entry = json.loads(line)
    assert SECRET not in line
    assert "event" not in entry and entry["component"] == "unknown"


def test_a_deep_traceback_keeps_only_the_innermost_frames() -> None:
    def down(depth: int) -> None:
        if depth == 0:
            raise KeyError(SECRET)
        down(depth - 1)

    try:
        down(50)
    except KeyError as exc:
        entry = json.loads(error_line("mcp", exc, now=NOW))
    assert len(entry["frames"]) == MAX_FRAMES
    assert entry["error"] == "KeyError" and "caused_by" not in entry


def test_record_appends_one_line_per_error(db: Path) -> None:
    record(db, "mcp", a_failure(), now=NOW)
    record(db, "hook codex", a_failure(), event="session_start", now=NOW + timedelta(seconds=1))

    logged = lines(log_path(db))
    assert [e["component"] for e in logged] == ["mcp", "hook codex"]
    assert SECRET not in log_path(db).read_text()
    assert log_path(db).name == "oncall.db.agent-errors.log"
    assert (log_path(db).stat().st_mode & 0o777) == 0o600


def test_no_log_is_started_where_there_is_no_db(tmp_path: Path) -> None:
    record(tmp_path / "absent.db", "hook claude-code", a_failure(), now=NOW)
    record(None, "hook claude-code", a_failure(), now=NOW)
    record(tmp_path / "absent.db", "hook claude-code", None, now=NOW)

    assert list(tmp_path.iterdir()) == []


def test_rotation_caps_the_disk_used(db: Path) -> None:
    written = 0
    while written < 3 * MAX_BYTES:
        moment = NOW + timedelta(milliseconds=written)
        written += len(error_line("hook claude-code", a_failure(), now=moment))
        record(db, "hook claude-code", a_failure(), now=moment)

    longest = max(len(line) for line in log_path(db).read_bytes().splitlines(keepends=True))
    current, previous = log_path(db).stat().st_size, rotated_path(db).stat().st_size
    assert current <= MAX_BYTES + longest and previous <= MAX_BYTES + longest
    assert sorted(p.name for p in db.parent.iterdir()) == [
        "oncall.db",
        "oncall.db.agent-errors.log",
        "oncall.db.agent-errors.log.1",
    ]
    # The newest lines are kept: the last one written is the last one in the log.
    last = lines(log_path(db))[-1]["at"]
    assert isinstance(last, str) and datetime.fromisoformat(last) == moment


def test_a_log_that_cannot_be_written_costs_the_line_and_nothing_else(db: Path) -> None:
    log_path(db).mkdir()  # where the log should go is a directory: open() fails

    record(db, "hook claude-code", a_failure(), now=NOW)

    assert list(log_path(db).iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux /dev/full")
def test_a_full_disk_does_not_raise(db: Path) -> None:
    log_path(db).symlink_to("/dev/full")  # every write() fails with ENOSPC, as on a full disk

    record(db, "hook claude-code", a_failure(), now=NOW)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_directory_does_not_raise(db: Path) -> None:
    db.parent.chmod(0o500)
    try:
        record(db, "hook claude-code", a_failure(), now=NOW)
        assert not log_path(db).exists()
    finally:
        db.parent.chmod(0o700)


def test_concurrent_writers_leave_whole_lines(db: Path) -> None:
    """Several processes at once, as several agents' hooks would be."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from oncall_tui.agents.error_log import record\n"
        "for _ in range(200):\n"
        "    try:\n"
        "        raise OSError('x' * 500)\n"
        "    except OSError as exc:\n"
        "        record(Path(sys.argv[1]), 'hook claude-code', exc)\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(db)], cwd=Path.cwd()) for _ in range(4)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0, 0]

    assert len(lines(log_path(db))) == 800  # each one parses: no line was cut or interleaved


def test_recent_errors_counts_the_last_24_hours_and_names_the_newest(db: Path) -> None:
    for hours_ago in (30, 25, 23, 2, 1):
        record(db, "mcp", a_failure(), now=NOW - timedelta(hours=hours_ago))

    found = recent_errors(db, NOW)

    assert found == RecentErrors(3, NOW - timedelta(hours=1))


def test_recent_errors_reads_on_into_the_previous_log(db: Path) -> None:
    record(db, "mcp", a_failure(), now=NOW - timedelta(hours=3))
    log_path(db).rename(rotated_path(db))
    record(db, "mcp", a_failure(), now=NOW - timedelta(hours=2))

    assert recent_errors(db, NOW) == RecentErrors(2, NOW - timedelta(hours=2))


def test_recent_errors_of_a_quiet_or_unreadable_log(db: Path) -> None:
    assert recent_errors(db, NOW) == RecentErrors(0, None)
    log_path(db).write_bytes(b'not json\n{"at": 5}\n{"at": "2026-11-23T02:00:00"}\n\n{"at": "')
    assert recent_errors(db, NOW) == RecentErrors(0, None)


def test_recent_errors_finds_lines_across_read_chunks(db: Path) -> None:
    """A log longer than one read: every line is found, none twice, cut or not."""
    count = 400
    for index in range(count):
        record(db, "mcp", a_failure(), now=NOW - timedelta(seconds=count - index))

    assert log_path(db).stat().st_size > 8192 * 3
    assert recent_errors(db, NOW) == RecentErrors(count, NOW - timedelta(seconds=1))
