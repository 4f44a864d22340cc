"""The short commands start without the heavy parts: commands loaded by name, the listings read
as plain JSON (same output as through the models) and of the configuration only where the DB is,
the other commands' settings read only when there is something to validate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from oncall_tui.cli import COMMANDS, cli
from oncall_tui.cli.app_context import configuration_to_validate
from oncall_tui.cli.lazy_group import load_command
from oncall_tui.cli.pushes_list import PUSH_STATES
from oncall_tui.config import ConfigError, load_settings
from oncall_tui.core.agents import Push, PushState
from oncall_tui.core.models import Incident, Link
from oncall_tui.paths import DB_NOT_TEXT, db_location, resolve_db
from oncall_tui.store import listing, queries
from oncall_tui.store.db import connect
from tests.support.environment import XDG_DIRECTORIES, drop_our_variables


@pytest.fixture
def quiet_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No ``ONCALL_TUI_*`` variable, no config file: the lean path's conditions."""
    drop_our_variables(monkeypatch)
    monkeypatch.delenv(HOOK_SERVER_IDLE, raising=False)
    for variable in XDG_DIRECTORIES:
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    return dict(os.environ)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo story: incidents with links, pushes of every kind the story makes."""
    db = tmp_path_factory.mktemp("lean") / "demo.db"
    seeded = CliRunner().invoke(cli, ["--db", str(db), "demo", "--seed-only"])
    assert seeded.exit_code == 0, seeded.output
    yield db


def test_field_lists_are_the_models_fields() -> None:
    assert set(Incident.model_fields) == listing.INCIDENT_FIELDS
    assert set(Link.model_fields) == listing.LINK_FIELDS
    assert set(Push.model_fields) == listing.PUSH_FIELDS
    assert tuple(s.value for s in PushState) == PUSH_STATES


def test_listed_documents_are_the_model_dumps(demo_db: Path) -> None:
    conn = connect(demo_db)
    try:
        through_models = [
            i.model_dump(mode="json")
            for i in queries.list_incidents(conn, include_resolved=True, limit=500)
        ]
        assert any(i["links"] for i in through_models), "the story should have links"
        assert listing.list_incidents(conn, include_resolved=True, limit=500) == through_models
        rows = conn.execute("SELECT data FROM pushes ORDER BY number").fetchall()
        pushes = [Push.model_validate_json(r[0]).model_dump(mode="json") for r in rows]
        assert len({p["kind"] for p in pushes}) > 1
        assert listing.list_pushes(conn, state=None, incident=None, limit=500) == pushes
    finally:
        conn.close()


def test_a_row_from_an_older_model_goes_through_the_model(tmp_path: Path, demo_db: Path) -> None:
    """A field added since the row was written comes back with its default, as the model
    would give it (here ``deploy_freeze`` and a link's ``text``)."""
    db = tmp_path / "older.db"
    db.write_bytes(demo_db.read_bytes())
    conn = connect(db)
    try:
        (incident_id, data) = conn.execute(
            "SELECT id, data FROM incidents WHERE data LIKE '%\"links\":[{%'"
        ).fetchone()
        older = json.loads(data)
        del older["deploy_freeze"]
        older["links"] = [{"href": link["href"]} for link in older["links"]]
        conn.execute("UPDATE incidents SET data = ? WHERE id = ?", (json.dumps(older), incident_id))
        (listed,) = [
            i for i in listing.list_incidents(conn, include_resolved=True) if i["id"] == incident_id
        ]
        assert listed["deploy_freeze"] is False
        assert {link["text"] for link in listed["links"]} == {""}
        assert listed == queries.get_incident(conn, incident_id).model_dump(mode="json")
    finally:
        conn.close()


HOOK_SERVER_IDLE = "ONCALL_TUI_SESSIONS__HOOK_SERVER_IDLE_S"
"""Set for the whole test run (tests/conftest.py): an override, which these tests must control."""
ELSEWHERE_WRONG = '[server]\nprot = 1\n[policy]\nmode = "sometimes"\n'
"""A config file whose mistakes are all outside what a listing reads."""


def _probe(code: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter with ``args`` as its command line."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_listings_import_neither_pydantic_nor_textual(
    demo_db: Path, quiet_env: dict[str, str], tmp_path: Path
) -> None:
    probe = (
        "import sys\n"
        "from oncall_tui.__main__ import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in ('pydantic', 'pydantic_settings', 'textual') if m in sys.modules)\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(f'db = "{demo_db}"\n{ELSEWHERE_WRONG}')
    for command in (
        ["--db", str(demo_db), "incidents", "--all"],
        ["--db", str(demo_db), "pushes", "--json"],
        ["--config", str(config), "incidents", "--all"],
        ["--config", str(config), "pushes"],
    ):
        done = _probe(probe, command, quiet_env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip(), command
        assert done.stderr.strip() == "heavy: []", done.stderr


def test_other_commands_still_validate_a_config_file_or_an_override(
    tmp_path: Path, quiet_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not configuration_to_validate(None)
    monkeypatch.setenv("ONCALL_TUI_DB", str(tmp_path / "x.db"))
    monkeypatch.setenv("ONCALL_TUI_USER", "alice")  # the journal's actor, not a setting
    assert not configuration_to_validate(None)
    assert configuration_to_validate(tmp_path / "config.toml")
    monkeypatch.setenv("ONCALL_TUI_POLICY__MODE", "auto")
    assert configuration_to_validate(None)
    monkeypatch.delenv("ONCALL_TUI_POLICY__MODE")
    default = Path(quiet_env["XDG_CONFIG_HOME"]) / "oncall-tui" / "config.toml"
    default.parent.mkdir(parents=True)
    default.write_text("[server]\nprot = 1\n")
    assert configuration_to_validate(None)
    refused = CliRunner().invoke(cli, ["approve", "P-1"])
    assert refused.exit_code == 1
    assert "unknown key 'prot'" in refused.output


def test_a_listing_reads_only_where_the_db_is_and_refuses_a_file_it_cannot_read(
    demo_db: Path, tmp_path: Path, quiet_env: dict[str, str]
) -> None:
    """What a listing needs of the configuration is the DB's location: mistakes elsewhere are
    for the commands acting on them to refuse; a file that is not TOML, or a ``db`` that is not
    a location, is refused by all."""
    config = tmp_path / "config.toml"
    runner = CliRunner()
    config.write_text(f'db = "{demo_db}"\n{ELSEWHERE_WRONG}')
    listed = runner.invoke(cli, ["--config", str(config), "incidents", "--all"])
    assert listed.exit_code == 0, listed.output
    assert "INC-" in listed.output
    for acting in (["approve", "P-1"], ["config", "show"]):
        refused = runner.invoke(cli, ["--config", str(config), *acting])
        assert refused.exit_code == 1, acting
        assert "unknown key 'prot'" in refused.output
        assert "policy.mode: expected one of" in refused.output
    for text, problem in (
        ('db = "unclosed\n', f"{config}: not valid TOML: "),
        ("db = 5\n", f"{config}: db: {DB_NOT_TEXT}"),
    ):
        config.write_text(text)
        for command in (["incidents"], ["pushes"], ["approve", "P-1"]):
            refused = runner.invoke(cli, ["--config", str(config), *command])
            assert refused.exit_code == 1, (text, command)
            assert refused.output.startswith(f"Error: {problem}"), refused.output
            assert refused.output.count("\n") == 1, "one line, no traceback"
    missing = runner.invoke(cli, ["--config", str(tmp_path / "none.toml"), "pushes"])
    assert missing.exit_code == 1
    assert "config file not found" in missing.output


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        '[policy]\nmode = "auto"\n',
        'db = "from-file.db"\n',
        'DB = "spelled-up.db"\n',
        'db = ""\n',
        'db = "postgresql://oncall@db.internal/oncall"\n',
        'db = "~/under-home.db"\n[server]\nport = 9000\n',
    ],
)
@pytest.mark.parametrize("db_arg", [None, "given.db"])
@pytest.mark.parametrize("env_db", [None, "from-env.db"])
def test_the_listings_db_is_where_the_settings_put_it(
    tmp_path: Path,
    quiet_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    text: str | None,
    db_arg: str | None,
    env_db: str | None,
) -> None:
    config = tmp_path / "config.toml"
    if text is not None:
        config.write_text(text)
    if env_db:
        monkeypatch.setenv("ONCALL_TUI_DB", env_db)
    # As the root group passes them: --db (or ONCALL_TUI_DB) as an override, and --config.
    override = db_arg or env_db
    settings = load_settings(
        config if text is not None else None, db=override and db_location(override)
    )
    assert resolve_db(db_arg, config if text is not None else None) == settings.db


@pytest.mark.parametrize("text", ["db = 5\n", "db = [1]\n", "db = 'open\n", "[db\n"])
def test_a_db_the_settings_refuse_is_refused_in_the_same_words(
    tmp_path: Path, quiet_env: dict[str, str], text: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ValueError) as listing_refusal:
        resolve_db(None, config)
    with pytest.raises(ConfigError) as settings_refusal:
        load_settings(config)
    assert str(listing_refusal.value) == str(settings_refusal.value)


def test_every_command_loads_under_its_name_and_help_lists_them() -> None:
    for name, spec in COMMANDS.items():
        command = load_command(spec)
        assert command.name == name, spec
    shown = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    listed = shown.output.split("Commands:")[1].split()
    assert set(COMMANDS) <= set(listed)
    assert "List incidents (active ones unless --all)." in shown.output


def test_loading_a_non_command_is_refused() -> None:
    with pytest.raises(TypeError, match="not a click command"):
        load_command("oncall_tui.cli.app_context:print_json")
    assert isinstance(load_command("oncall_tui.cli.incidents_list:incidents"), click.Command)


def test_the_export_imports_yaml_only_for_a_cursor_rule(quiet_env: dict[str, str]) -> None:
    """A command that writes agents' files itself (``approve`` with nothing running) pays for
    the export's imports on every call; YAML is only the Cursor rule's frontmatter."""
    probe = (
        "import sys\n"
        "from oncall_tui.agents.export import repo_files, sync\n"
        "assert 'yaml' not in sys.modules, 'imported with the export'\n"
        "rule = repo_files.cursor_rule([])\n"
        "assert rule.startswith('---\\n') and 'yaml' in sys.modules, rule\n"
    )
    done = _probe(probe, [], quiet_env)
    assert done.returncode == 0, done.stderr
