"""One "opened" time: an incident opens when oncall-tui receives its first signal.

The signal's own time (Alertmanager ``startsAt``) is kept beside it and shown where the two
differ by more than a minute. An alert that had been firing for 8 days before it reached us is a
new incident here: minutes old in the list, in this week's review, opened at our receipt.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from oncall_tui.cli.app_context import AppContext
from oncall_tui.cli.deliveries_cmd import ingest
from oncall_tui.cli.incidents_cmd import incident, incidents
from oncall_tui.cli.timeline_cmd import timeline
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.opened import first_signal_note
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import dump_projection
from tests.support.environment import drop_our_variables

NOW = datetime(2026, 12, 2, 5, 40, tzinfo=UTC)
STARTS_AT = NOW - timedelta(days=8)


def _webhook() -> dict[str, Any]:
    """An Alertmanager webhook body (version 4) of one alert firing for 8 days already, shaped
    as https://prometheus.io/docs/alerting/latest/configuration/#webhook_config shows it."""
    labels = {"alertname": "LedgerLagHigh", "service": "ledger", "severity": "critical"}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="LedgerLagHigh"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "oncall-tui",
        "groupLabels": {"alertname": "LedgerLagHigh"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "ledger postings lag behind"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "ledger postings lag behind"},
                "startsAt": STARTS_AT.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=ledger_lag",
                "fingerprint": "5a1d0c9e7b3f2a41",
            }
        ],
    }


class Cli:
    """The commands on one DB with an injected clock, as the ``oncall-tui`` group runs them."""

    def __init__(self, db: Path, clock: FixedClock) -> None:
        self.db, self.clock = db, clock

    def __call__(self, command: click.Command, *args: str) -> Result:
        app = AppContext(config_path=None, db_override=self.db, clock=self.clock)
        try:
            result = CliRunner().invoke(command, list(args), obj=app)
        finally:
            app.close()
        assert result.exit_code == 0, result.output
        return result


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    drop_our_variables(monkeypatch)
    run = Cli(tmp_path / "cli.db", FixedClock(NOW))
    payload = tmp_path / "webhook.json"
    payload.write_text(json.dumps(_webhook()))
    run(ingest, "alertmanager", str(payload))
    run.clock.advance(300)
    return run


def test_the_list_ages_an_incident_from_our_receipt(cli: Cli) -> None:
    [listed] = json.loads(cli(incidents, "--json").output)
    assert listed["id"] == "INC-1"
    assert datetime.fromisoformat(listed["opened_at"]) == NOW
    assert datetime.fromisoformat(listed["signal_started_at"]) == STARTS_AT
    row = cli(incidents).output
    assert " 5m " in row and " 8d " not in row


def test_a_weekly_review_includes_an_incident_opened_this_week(cli: Cli) -> None:
    document = json.loads(cli(timeline, "--since", "-7d", "--format", "json").output)
    [story] = document["incidents"]
    assert story["incident"]["id"] == "INC-1"
    assert datetime.fromisoformat(story["incident"]["opened_at"]) == NOW
    assert datetime.fromisoformat(story["times"]["opened_at"]) == NOW
    assert datetime.fromisoformat(story["incident"]["signal_started_at"]) == STARTS_AT
    before = json.loads(
        cli(timeline, "--since", "-2d", "--until", "-1d", "--format", "json").output
    )
    assert before["incidents"] == []


def test_the_other_time_is_shown_where_it_differs(cli: Cli) -> None:
    said = "first signal says 8 days earlier: 2026-11-24 05:40 UTC"
    markdown = cli(timeline, "INC-1").output
    assert f"- Opened 05:40:00 ({said})" in markdown
    page = cli(timeline, "INC-1", "--format", "html").output
    assert f"Opened 2026-12-02 05:40:00 UTC ({said})." in page
    shown = cli(incident, "show", "INC-1").output
    assert f"opened    2026-12-02T05:40:00+00:00  ({said})" in shown


def test_the_note_is_left_out_within_a_minute() -> None:
    assert first_signal_note(NOW, NOW - timedelta(seconds=60)) is None
    assert first_signal_note(NOW, None) is None
    assert first_signal_note(NOW, NOW - timedelta(seconds=61)) == (
        "first signal says 1 minute earlier: 2026-12-02 05:38 UTC"
    )
    assert first_signal_note(NOW, NOW + timedelta(hours=3, minutes=5)) == (
        "first signal says 3 hours later: 2026-12-02 08:45 UTC"
    )


def test_an_older_db_moves_the_signal_time_aside_when_upgraded(cli: Cli) -> None:
    """A DB whose incidents were projected with the signal's own time as ``opened_at``."""
    store = Store.open(cli.db, cli.clock)
    current = dump_projection(store.conn)
    store.close()
    conn = sqlite3.connect(cli.db, isolation_level=None)
    old = {"opened_at": STARTS_AT.isoformat().replace("+00:00", "Z")}
    (data,) = conn.execute("SELECT data FROM incidents").fetchone()
    fields = json.loads(data)
    fields.pop("signal_started_at")
    conn.execute("DROP INDEX incidents_signal_time")
    conn.execute("ALTER TABLE incidents DROP COLUMN signal_started_at")
    conn.execute(
        "UPDATE incidents SET opened_at = ?, data = ?",
        ("2026-11-24T05:40:00.000000Z", json.dumps({**fields, **old})),
    )
    conn.execute("PRAGMA user_version = 3")
    conn.close()

    upgraded = Store.open(cli.db, cli.clock)
    try:
        assert dump_projection(upgraded.conn) == current
    finally:
        upgraded.close()
