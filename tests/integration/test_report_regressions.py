"""``report regressions`` and ``report agents`` over a played story: golden files, the JSON
shape, the end-to-end answers (pending / told / a human-only deploy), ``incident show``, and
the page in headless Chromium.

The story is ``regressions_story.play_regression``. To regenerate the goldens after an intended
change::

    ONCALL_TUI_REGEN_GOLDEN=1 pytest tests/integration/test_report_regressions.py

then read the new files (and their diff) before committing them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from oncall_tui.cli.app_context import AppContext
from oncall_tui.cli.incidents_cmd import incident
from oncall_tui.cli.report_cmd import report
from oncall_tui.core.reports.model import RegressionReport, report_json_schema
from tests.integration.regressions_story import (
    AGENT_SHA,
    HUMAN_SHA,
    SEARCH_SHA,
    SESSION,
    WINDOW,
    play_regression,
)
from tests.support.environment import is_machine_setting

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("ONCALL_TUI_REGEN_GOLDEN") == "1"
FORMATS = ("md", "json", "html")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for name in [n for n in os.environ if is_machine_setting(n)]:
        if name != "ONCALL_TUI_REGEN_GOLDEN":
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def pending_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return play_regression(tmp_path_factory.mktemp("pending")).db


@pytest.fixture(scope="module")
def told_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return play_regression(tmp_path_factory.mktemp("told"), told=True).db


def invoke(db: Path, group: click.Group, *args: str) -> tuple[int, str, str]:
    app = AppContext(config_path=None, db_override=db)
    result = CliRunner().invoke(group, list(args), obj=app, catch_exceptions=False)
    app.close()
    return result.exit_code, result.stdout, result.stderr


def regressions(db: Path, *args: str) -> str:
    since, until = WINDOW
    code, out, err = invoke(db, report, "regressions", "--since", since, "--until", until, *args)
    assert code == 0, err
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_matches_its_golden_file(pending_db: Path, fmt: str, tmp_path: Path) -> None:
    target = tmp_path / f"report.{fmt}"
    regressions(pending_db, "--format", fmt, "--output", str(target))
    text = target.read_text(encoding="utf-8")
    golden = GOLDEN / f"report_regressions.{fmt}"
    if REGENERATE:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"regenerate: see {__name__} docstring"


def test_json_lists_the_session_the_commit_and_pending(pending_db: Path) -> None:
    document = json.loads(regressions(pending_db, "--format", "json"))
    Draft202012Validator.check_schema(report_json_schema(RegressionReport))
    assert (
        list(Draft202012Validator(report_json_schema(RegressionReport)).iter_errors(document)) == []
    )
    assert document["schema"] == "1" and document["incidents"] == 3
    [flagged] = document["agent_assisted"]
    assert flagged["incident_id"] == "INC-2" and flagged["service"] == "payments-api"
    [deploy] = flagged["deploys"]
    assert deploy["sha"] == AGENT_SHA and deploy["human_commits"] == 1
    [commit] = deploy["commits"]
    assert (commit["sha"], commit["session_id"], commit["agent"]) == (
        AGENT_SHA,
        SESSION,
        "claude-code",
    )
    assert commit["files"] == ["services/payments/client.py"]
    assert commit["exposure"] == "pending" and commit["untold_seconds"] == 630.0
    assert [g["decision"] for g in commit["guard"]] == ["asked", "allowed-after-ask"]
    assert HUMAN_SHA not in json.dumps(deploy["commits"])
    week = next(w for w in document["weeks"] if w["week"] == "2026-11-23")
    assert week["by_agent"] == {"claude-code": 1}
    assert week["by_service"]["payments-api"] == {"incidents": 1, "agent_assisted": 1}
    table = regressions(pending_db)
    assert "not told (pending)" in table and "INC-2" in table


def test_a_deploy_of_human_commits_only_is_not_flagged(pending_db: Path) -> None:
    document = json.loads(regressions(pending_db, "--format", "json"))
    assert [f["incident_id"] for f in document["agent_assisted"]] == ["INC-2"]
    assert SEARCH_SHA not in json.dumps(document)
    code, out, _ = invoke(pending_db, incident, "show", "INC-3")
    assert code == 0 and "agent-assisted" not in out


def test_an_approved_push_read_before_the_commit_says_told(told_db: Path) -> None:
    [flagged] = json.loads(regressions(told_db, "--format", "json"))["agent_assisted"]
    [commit] = flagged["deploys"][0]["commits"]
    assert commit["exposure"] == "told" and commit["push_id"] == "P-1"
    assert commit["untold_seconds"] == 210.0, "proposed 11:54:30, printed by the hook 11:58"


def test_incident_show_prints_the_evidence(pending_db: Path) -> None:
    code, out, _ = invoke(pending_db, incident, "show", "INC-2")
    assert code == 0
    [line] = [x for x in out.splitlines() if x.startswith("agent-assisted:")]
    assert AGENT_SHA[:10] in line and SESSION in line and "not told (pending)" in line
    code, out, _ = invoke(pending_db, incident, "show", "INC-2", "--json")
    assert json.loads(out)["agent_assisted"]["deploys"][0]["sha"] == AGENT_SHA


def test_agents_report(told_db: Path) -> None:
    since, until = WINDOW
    code, out, _ = invoke(
        told_db, report, "agents", "--since", since, "--until", until, "--format", "json"
    )
    assert code == 0
    [row] = json.loads(out)["agents"]
    assert row["agent"] == "claude-code" and row["sessions"] == 1
    assert (row["contexts_read"], row["pushes_told"], row["guard_asked"]) == (1, 1, 1)
    assert row["allowed_after_ask"] == 1 and row["asks_without_write"] == 0
    for fmt in ("table", "md", "html"):
        code, out, _ = invoke(told_db, report, "agents", "--since", since, "--format", fmt)
        assert code == 0 and "claude-code" in out


def test_the_command_explains_mistakes(pending_db: Path) -> None:
    code, _, err = invoke(pending_db, report, "regressions", "--since", "soon")
    assert code == 2 and "is not a time" in err
    code, _, err = invoke(pending_db, report, "regressions", "--since", "-1d", "--until", "-2d")
    assert code == 2 and "--since is after --until" in err


def test_the_page_renders_in_headless_chromium(pending_db: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if not os.environ.get("CI"):
            pytest.skip("chromium is not installed (apt-get install chromium)")
        pytest.fail("CI must have chromium: apt-get install -y chromium")
    page = tmp_path / "report.html"
    regressions(pending_db, "--format", "html", "--output", str(page))
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
        text=True,
    ).stdout
    assert "Agent-assisted regressions" in dom and "INC-2" in dom
    assert "not told (pending)" in dom and SESSION in dom and AGENT_SHA[:12] in dom
    assert "<svg" in dom and dom.count('class="assisted"') == 2, "one bar per week"
