"""``oncall-tui status``: the pipeline's health on a real DB, as lines and as JSON, and its exit."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from oncall_tui.cli import cli
from tests.support.environment import drop_our_variables
from tests.support.samples import SAMPLES

Invoke = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    drop_our_variables(monkeypatch)
    config = tmp_path / "config.toml"
    config.write_text(
        "[sources.alertmanager]\n"
        'token = "t0ken"\n'
        "[sources.pagerduty]\n"
        'secret = "s3cret"\n'
        "silence_s = 60\n"
        "[health]\n"
        "silence_s = 900\n"
        "[policy]\n"
        'mode = "observe"\n'
    )
    db = tmp_path / "status.db"

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(
            cli, ["--db", str(db), "--config", str(config), *args], catch_exceptions=False
        )

    return invoke


def deliver_alertmanager(run: Invoke) -> None:
    # The body is Alertmanager's webhook payload as its docs show it:
    # https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
    result = run(
        "ingest",
        "alertmanager",
        str(SAMPLES / "alertmanager" / "firing.json"),
        "-H",
        "Authorization: Bearer t0ken",
    )
    assert result.exit_code == 0, result.output


def test_a_fresh_setup_is_well_and_says_so_one_fact_per_line(run: Invoke) -> None:
    result = run("status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "source alertmanager: never delivered, ok" in lines
    assert "source pagerduty: never delivered, ok" in lines
    assert "policy: observe" in lines
    assert "export: none" in lines
    assert lines[-1] == "status: ok"


def test_json_reports_the_delivery_and_the_configured_thresholds(run: Invoke) -> None:
    deliver_alertmanager(run)
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["ok"] is True
    assert document["policy_mode"] == "observe"
    sources = {s["name"]: s for s in document["sources"]}
    assert sources["alertmanager"]["last_delivery_at"] is not None
    assert sources["alertmanager"]["silence_s"] == 900
    assert sources["pagerduty"]["silence_s"] == 60
    assert document["backlog"] == 0 and document["agent_errors_24h"] == 0


def test_a_source_silent_past_its_threshold_exits_1(run: Invoke, tmp_path: Path) -> None:
    deliver_alertmanager(run)
    with sqlite3.connect(tmp_path / "status.db") as conn:  # the delivery came an hour ago
        conn.execute("UPDATE deliveries SET last_attempt_at = '2000-01-01T00:00:00.000000Z'")
    result = run("status")
    assert result.exit_code == 1
    assert "source alertmanager: " in result.output and "SILENT (threshold 900s)" in result.output
    assert "problem: alertmanager: no delivery for" in result.output
    document = json.loads(run("status", "--json").output)
    assert document["ok"] is False
    assert [s["name"] for s in document["sources"] if s["silent"]] == ["alertmanager"]


def test_active_sessions_without_an_exporter_exit_1(run: Invoke) -> None:
    registered = run("sessions", "register", "s-1", "--repo", "acme/api")
    assert registered.exit_code == 0, registered.output
    result = run("status", "--json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["active_sessions"] == 1 and document["exporter"] is None
    assert any("nobody exports" in p for p in document["problems"])
