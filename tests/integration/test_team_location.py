"""Team mode's ``db``: a ``postgresql://`` URL wherever a SQLite file was named, its password
never shown, and one receiver folding for the database.

The URL forms are libpq's connection URIs
(https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS): userinfo with
an optional password, or the password as a ``password=`` parameter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from oncall_tui.agents.error_log import log_path, rotated_path
from oncall_tui.cli import cli
from oncall_tui.config import Settings, load_settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.paths import carries_password, db_location, display_db, resolve_db
from oncall_tui.server.runner import ReceiverThread
from oncall_tui.store.hook_queries import initialised, present
from oncall_tui.store.journal import Store
from oncall_tui.store.lease import Lease, read_lease
from tests.integration.conftest import STORY_TIME
from tests.support.receiver_http import post_webhook
from tests.support.samples import sample

SECRET = "s3cr3t-Pa55"
WITH_PASSWORD = f"postgresql://oncall:{SECRET}@db.internal:5432/oncall"
NOWHERE = f"postgresql://oncall:{SECRET}@127.0.0.1:1/oncall?connect_timeout=2"
"""A database nobody serves: port 1 on loopback refuses at once."""


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (WITH_PASSWORD, "postgresql://oncall:********@db.internal:5432/oncall"),
        (
            f"postgresql://db.internal/oncall?user=oncall&password={SECRET}&sslmode=require",
            "postgresql://db.internal/oncall?user=oncall&password=********&sslmode=require",
        ),
        ("postgresql://oncall@db.internal/oncall", "postgresql://oncall@db.internal/oncall"),
        (f"postgres://u:{SECRET}@[::1]:5433/x", "postgres://u:********@[::1]:5433/x"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert display_db(url) == shown
    assert carries_password(url) == (shown != url)


def test_a_url_stays_a_url_and_anything_else_is_a_path() -> None:
    assert db_location("postgresql://db/oncall") == "postgresql://db/oncall"
    assert db_location("oncall.db") == Path("oncall.db")
    assert db_location("postgresql.db") == Path("postgresql.db")
    assert display_db(Path("/var/lib/oncall/oncall.db")) == "/var/lib/oncall/oncall.db"


def test_the_settings_and_the_hooks_lean_lookup_agree_on_a_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('db = "postgresql://oncall@db/from-file"\n')
    assert (
        resolve_db(None, str(config))
        == load_settings(config).db
        == "postgresql://oncall@db/from-file"
    )
    monkeypatch.setenv("ONCALL_TUI_DB", "postgresql://oncall@db/from-env")
    assert resolve_db(None, None) == load_settings().db == "postgresql://oncall@db/from-env"
    assert Settings(db="relative.db").db == Path("relative.db")


def test_config_show_and_errors_never_show_the_password(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["--db", WITH_PASSWORD, "config", "show"])
    assert shown.exit_code == 0, shown.output
    assert SECRET not in shown.output
    assert json.loads(shown.output)["db"] == display_db(WITH_PASSWORD)
    failed = runner.invoke(cli, ["--db", NOWHERE, "incidents"])
    assert failed.exit_code == 1
    assert "cannot open the database" in failed.output
    assert SECRET not in failed.output
    assert failed.output.count("\n") == 1  # one line, no traceback


def test_hooks_install_refuses_to_write_a_password_into_the_agents_settings(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    args = ["--db", WITH_PASSWORD, "hooks", "install", "claude-code", "--project-dir", str(project)]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 1
    assert "~/.pgpass" in done.output
    assert SECRET not in done.output
    assert not any(project.rglob("settings*.json"))


def test_the_agents_error_log_of_a_database_lives_in_this_machines_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert log_path(WITH_PASSWORD).parent == tmp_path / "state" / "oncall-tui"
    assert rotated_path(WITH_PASSWORD).name == log_path(WITH_PASSWORD).name + ".1"
    assert log_path(tmp_path / "oncall.db") == tmp_path / "oncall.db.agent-errors.log"


def test_a_hook_or_mcp_server_finds_an_initialised_postgresql_store(
    pg_url: object, tmp_path: Path
) -> None:
    url = pg_url()  # type: ignore[operator]
    assert present(url)
    assert not initialised(url)  # a schema oncall-tui never migrated
    Store.open(url).close()
    assert initialised(url)
    assert not initialised(NOWHERE)


def test_a_lease_whose_holder_died_on_this_host_is_taken_at_once(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "oncall.db")
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        mine = Lease("fold", "serve")
        assert mine.hold(store.conn)
        store.conn.execute(
            "UPDATE meta SET value = json_set(value, '$.pid', ?) WHERE key = 'lease:fold'",
            (int(dead.stdout),),
        )
        other = Lease("fold", "serve")
        assert other.hold(store.conn)  # at once, not after the lease's TTL
        current = read_lease(store.conn, "fold")
        assert current is not None and current[0] == other.claim
        # A holder on another host is never judged by a pid of this one.
        store.conn.execute(
            "UPDATE meta SET value = json_set(value, '$.host', 'elsewhere', '$.pid', ?)"
            " WHERE key = 'lease:fold'",
            (int(dead.stdout),),
        )
        assert not mine.hold(store.conn)
    finally:
        store.close()


def _settings(db: Path) -> Settings:
    return Settings(db=db, server={"host": "127.0.0.1", "port": 0})


def _received(db: Path) -> int:
    store = Store.open(db)
    try:
        return int(
            store.conn.execute(
                "SELECT count(*) FROM deliveries WHERE status = 'received'"
            ).fetchone()[0]
        )
    finally:
        store.close()


def _fold_claim(db: Path) -> str | None:
    store = Store.open(db)
    try:
        current = read_lease(store.conn, "fold")
        return None if current is None else current[0]
    finally:
        store.close()


def _wait_folded(db: Path, timeout_s: float) -> float:
    started = time.monotonic()
    while _received(db):
        assert time.monotonic() - started < timeout_s, "not folded in time"
        time.sleep(0.02)
    return time.monotonic() - started


def test_two_receivers_on_one_store_one_folds_and_the_other_takes_over_when_it_stops(
    tmp_path: Path,
) -> None:
    db = tmp_path / "oncall.db"
    firing = sample("events-v2/trigger.json").read_bytes()
    resolved = sample("events-v2/resolve.json").read_bytes()
    first = ReceiverThread(_settings(db), FixedClock(STORY_TIME))
    first.start()  # its writer takes the fold lease as it starts
    second = ReceiverThread(_settings(db), FixedClock(STORY_TIME))
    second_port = second.start()
    try:
        holder = _fold_claim(db)
        # The second receiver stores and acknowledges; the first folds what it received.
        assert post_webhook(second_port, "events-v2", firing).status == 202
        _wait_folded(db, timeout_s=5)
        assert _fold_claim(db) == holder
        first.stop()  # releases the lease
        assert post_webhook(second_port, "events-v2", resolved).status == 202
        # Nobody else is left to fold it: the second took over at its next renewal.
        _wait_folded(db, timeout_s=5)
        assert _fold_claim(db) not in (None, holder)
    finally:
        second.stop()
    store = Store.open(db)
    try:
        states = store.conn.execute("SELECT state FROM incidents").fetchall()
        assert states == [("resolved",)]
    finally:
        store.close()
