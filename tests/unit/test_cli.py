"""The command line: JSON output, errors as one line, the ingest/incident/delivery commands."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from oncall_tui.cli import cli
from tests.support.environment import is_machine_setting
from tests.support.samples import SAMPLES


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in [n for n in __import__("os").environ if is_machine_setting(n)]:
        monkeypatch.delenv(name)
    db = tmp_path / "cli.db"

    def invoke(*args: str, input: bytes | None = None) -> Result:
        return CliRunner().invoke(
            cli, ["--db", str(db), *args], input=input, catch_exceptions=False
        )

    return invoke


def test_ingest_prints_a_json_summary_and_dedups(run) -> None:  # type: ignore[no-untyped-def]
    first = run("ingest", "alertmanager", str(SAMPLES / "alertmanager" / "firing.json"))
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output)
    assert summary["status"] == "accepted"
    assert summary["incidents"] == ["INC-1"]
    again = json.loads(
        run("ingest", "alertmanager", str(SAMPLES / "alertmanager" / "firing.json")).output
    )
    assert again["status"] == "duplicate"
    assert again["delivery_id"] == summary["delivery_id"]


def test_incidents_lists_and_shows(run) -> None:  # type: ignore[no-untyped-def]
    run("ingest", "alertmanager", str(SAMPLES / "alertmanager" / "firing.json"))
    listed = json.loads(run("incidents", "--json").output)
    assert [i["id"] for i in listed] == ["INC-1"]
    assert listed[0]["service"] == "payment-processor"
    shown = run("incident", "show", "inc-1")
    assert shown.exit_code == 0
    assert "payment-processor" in shown.output
    detail = json.loads(run("incident", "show", "INC-1", "--json").output)
    assert len(detail["signals"]) == listed[0]["signal_count"]


def test_incident_state_actions(run) -> None:  # type: ignore[no-untyped-def]
    run("ingest", "alertmanager", str(SAMPLES / "alertmanager" / "firing.json"))
    assert "acknowledged" in run("incident", "ack", "INC-1", "--as", "alice").output
    assert run("incident", "resolve", "INC-1").exit_code == 0
    assert "no active incidents" in run("incidents").output
    refused = run("incident", "ack", "INC-1")
    assert refused.exit_code == 1
    assert "cannot become acknowledged" in refused.output
    assert "Traceback" not in refused.output


def test_bad_input_is_kept_and_listed(run) -> None:  # type: ignore[no-untyped-def]
    bad = run("ingest", "alertmanager", "-", input=b"\xff\xfe not json")
    assert bad.exit_code == 1
    assert json.loads(bad.output)["reason"].startswith("body is not valid UTF-8")
    rejected = json.loads(run("deliveries", "--rejected", "--json").output)
    assert len(rejected) == 1
    assert rejected[0]["bytes"] == len(b"\xff\xfe not json")


def test_rerun_does_not_duplicate_accepted_work(run) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(
        run("ingest", "alertmanager", str(SAMPLES / "alertmanager" / "firing.json")).output
    )
    rerun = json.loads(run("deliveries", "rerun", str(first["delivery_id"])).output)
    assert rerun["results"][0]["signals"] == 0
    assert json.loads(run("incidents", "--json").output)[0]["signal_count"] == first["signals"]


def test_unknown_incident_is_one_line(run) -> None:  # type: ignore[no-untyped-def]
    result = run("incident", "show", "INC-999")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no incident INC-999"


def test_newer_db_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "cli.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    result = run("incidents")
    assert result.exit_code == 1
    assert "newer oncall-tui" in result.output


def test_config_show_masks_secrets_and_takes_env(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(
        '[sources.pagerduty]\nsecret = "s3cret-value"\n[sources.alertmanager]\ntoken = "tok-value"\n'
        '[pollers.alertmanager]\nurl = "http://127.0.0.1:9093"\ninterval_s = 30\n[policy]\nmode = "observe"\n'
    )
    monkeypatch.setenv("ONCALL_TUI_SERVER__PORT", "9999")
    result = run("--config", str(config), "config", "show")
    assert result.exit_code == 0, result.output
    assert "s3cret-value" not in result.output and "tok-value" not in result.output
    shown = json.loads(result.output)
    assert shown["sources"]["pagerduty"] == {"auth": ["hmac"], "secret": "********"}
    assert shown["sources"]["alertmanager"]["auth"] == ["bearer"]
    assert shown["server"]["port"] == 9999
    assert shown["pollers"]["alertmanager"]["interval_s"] == 30
    assert shown["policy"]["mode"] == "observe"


def test_invalid_config_names_the_problem(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text('[sources.nagios]\ntoken = "x"\n')
    result = run("--config", str(config), "config", "show")
    assert result.exit_code == 1
    assert "sources: unknown key 'nagios' (known: alertmanager," in result.output
    assert len(result.output.strip().splitlines()) == 1
