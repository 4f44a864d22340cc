"""The mistakes a newcomer makes in the first hour, each answered in one line.

Every row runs the real ``oncall-tui`` as a subprocess, without a terminal (stdin from
/dev/null, stdout a pipe), as a script or a first try from a wrong directory would: the exit
code is 1 for a mistake (2 for a usage error), stderr is one line, never a traceback and never
pydantic's own words.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.environment import without_our_variables

RUN_TIMEOUT_S = 30
"""Generous for a slow machine; the no-terminal rows must answer in a fraction of it."""


@dataclass(frozen=True)
class Mistake:
    args: list[str]
    exit_code: int
    says: str
    config: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Outcome:
    clean_env = without_our_variables()
    clean_env |= {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        **(env or {}),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=clean_env,
        cwd=tmp_path,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@pytest.fixture(scope="module")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo story, seeded once for the rows that need an incident to exist."""
    home = tmp_path_factory.mktemp("story")
    db = home / "story.db"
    seeded = run(home, "--db", str(db), "demo", "--seed-only")
    assert seeded.code == 0, seeded.stderr
    return db


# A listing reads only where the DB is (a file it cannot parse is still refused): the config's
# other mistakes are shown by a command acting on them, ``approve``.
MISTAKES = {
    "db-in-a-missing-directory": Mistake(
        ["--db", "{tmp}/no/such/dir/oncall.db", "incidents"],
        1,
        "directory {tmp}/no/such/dir does not exist (create it, or add --init",
    ),
    "db-is-a-text-file": Mistake(
        ["--db", "{tmp}/notes.txt", "incidents"], 1, "notes.txt is not an oncall-tui database"
    ),
    "db-is-a-directory": Mistake(["--db", "{tmp}", "incidents"], 2, "is a directory"),
    "config-port-not-an-integer": Mistake(
        ["--config", "config.toml", "approve", "P-1"],
        1,
        'Error: config.toml: server.port: expected an integer, got "abc"',
        config='[server]\nport = "abc"\n',
    ),
    "config-unknown-key": Mistake(
        ["--config", "config.toml", "approve", "P-1"],
        1,
        "Error: config.toml: server: unknown key 'prot' (did you mean 'port'?)",
        config="[server]\nprot = 9000\n",
    ),
    "config-not-toml": Mistake(
        ["--config", "config.toml", "incidents"],
        1,
        "Error: config.toml: not valid TOML",
        config="[server\n",
    ),
    "env-override-not-an-integer": Mistake(
        ["approve", "P-1"],
        1,
        'Error: ONCALL_TUI_SERVER__PORT: expected an integer, got "abc"',
        env={"ONCALL_TUI_SERVER__PORT": "abc"},
    ),
    "keymap-collision": Mistake(
        ["--config", "config.toml", "approve", "P-1"],
        1,
        "ui.keymap: 'y' is bound to both 'approve' and 'reject'",
        config='[ui.keymap]\napprove = "y"\nreject = "y,n"\n',
    ),
    "keymap-onto-another-actions-key": Mistake(
        ["--config", "config.toml", "--db", "{tmp}/oncall.db"],
        1,
        "Error: ui.keymap: 'r' is bound to both 'approve' and 'reject'",
        config='[ui.keymap]\napprove = "r"\n',
    ),
    "keymap-unknown-action": Mistake(
        ["--config", "config.toml", "--db", "{tmp}/oncall.db"],
        1,
        "Error: ui.keymap: unknown action 'aprove' (did you mean 'approve'?)",
        config='[ui.keymap]\naprove = "y"\n',
    ),
    "dashboard-without-a-terminal": Mistake(
        ["--db", "{tmp}/oncall.db"], 1, "the dashboard needs a terminal"
    ),
    "replay-without-a-terminal": Mistake(
        ["--db", "{story}", "replay", "INC-1"], 1, "the replay needs a terminal"
    ),
    "replay-unknown-incident": Mistake(
        ["--db", "{story}", "replay", "INC-404"], 1, "Error: no incident INC-404"
    ),
    "demo-without-a-terminal": Mistake(
        ["demo"], 1, "the demo dashboard (--seed-only works without one) needs a terminal"
    ),
    "demo-into-an-existing-db": Mistake(
        ["--db", "{story}", "demo", "--seed-only"], 1, "already exists"
    ),
    "timeline-at-malformed": Mistake(
        ["--db", "{story}", "timeline", "INC-1", "--at", "12:5x"],
        2,
        "Error: Invalid value: '12:5x' is not a time",
    ),
    "timeline-at-out-of-range": Mistake(
        ["--db", "{story}", "timeline", "INC-1", "--at", "25:00"], 2, "is not a time of day"
    ),
    "unknown-command": Mistake(["incidnets"], 2, "Error: No such command 'incidnets'"),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_is_answered_in_one_line(tmp_path: Path, story_db: Path, name: str) -> None:
    mistake = MISTAKES[name]
    (tmp_path / "notes.txt").write_text("not a database\n")
    if mistake.config is not None:
        (tmp_path / "config.toml").write_text(mistake.config)
    args = [a.format(tmp=tmp_path, story=story_db) for a in mistake.args]
    outcome = run(tmp_path, *args, env=mistake.env)

    assert outcome.code == mistake.exit_code, outcome.stderr
    assert "Traceback" not in outcome.stderr and "pydantic" not in outcome.stderr.lower()
    assert "Input should be" not in outcome.stderr
    lines = outcome.stderr.splitlines()
    if mistake.exit_code == 1:
        assert len(lines) == 1, outcome.stderr
    else:
        # Usage errors keep click's usage hint; the error itself is still one line.
        assert len([line for line in lines if line.startswith("Error:")]) == 1, outcome.stderr
    assert mistake.says.format(tmp=tmp_path) in outcome.stderr
    assert outcome.stdout == ""
    # Without a terminal the dashboard used to spin for minutes: it must answer at once.
    assert outcome.seconds < RUN_TIMEOUT_S / 2


def test_a_missing_directory_is_created_with_init(tmp_path: Path) -> None:
    db = tmp_path / "new" / "dir" / "oncall.db"
    outcome = run(tmp_path, "--init", "--db", str(db), "incidents")
    assert (outcome.code, outcome.stdout) == (0, "no active incidents\n"), outcome.stderr
    assert db.is_file()


def test_the_default_db_location_is_still_created_on_first_run(tmp_path: Path) -> None:
    outcome = run(tmp_path, "incidents")
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "xdg-data" / "oncall-tui" / "oncall.db").is_file()


def test_a_text_file_given_as_db_is_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    assert run(tmp_path, "--db", str(notes), "incidents").code == 1
    assert notes.read_text() == "not a database\n"


def timeline_json(tmp_path: Path, db: Path, *extra: str) -> dict[str, Any]:
    """INC-1 as ``timeline --format json`` gives it."""
    outcome = run(tmp_path, "--db", str(db), "timeline", "INC-1", "--format", "json", *extra)
    assert outcome.code == 0, outcome.stderr
    [incident] = json.loads(outcome.stdout)["incidents"]
    return dict(incident)


def test_timeline_at_a_time_of_day_as_the_readme_shows(tmp_path: Path, story_db: Path) -> None:
    incident = timeline_json(tmp_path, story_db)
    opened = datetime.fromisoformat(incident["times"]["opened_at"].replace("Z", "+00:00"))
    # Half a minute after it opened, as a time of day (UTC, taken on the incident's day).
    moment = (opened + timedelta(seconds=30)).replace(microsecond=0)
    if moment.date() != opened.date():  # the story was seeded in the last 30 s of a UTC day
        pytest.skip("a time of day past midnight names the incident's day, before it opened")
    early = timeline_json(tmp_path, story_db, "--at", moment.strftime("%H:%M:%S"))
    assert 0 < len(early["events"]) < len(incident["events"])
    assert all(e["ts"] <= moment.strftime("%Y-%m-%dT%H:%M:%S.999999Z") for e in early["events"])


def test_demo_keeps_its_db_where_asked_and_spreads_the_story_over_its_minutes(
    tmp_path: Path, story_db: Path
) -> None:
    assert story_db.is_file()
    incident = timeline_json(tmp_path, story_db)
    times = [e["ts"] for e in incident["events"]]
    assert times == sorted(times)
    # The demo story runs for over a minute; before, every entry had the seeding's one time.
    assert len(set(times)) >= 8
    assert incident["times"]["to_resolution_s"] >= 60
    assert incident["times"]["to_first_approval_s"] > 0
