"""``sessions register|heartbeat|end|list`` and the ``hook claude-code`` command's error rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from oncall_tui.cli.app_context import AppContext
from oncall_tui.cli.sessions_cmd import hook, sessions
from oncall_tui.core.clock import FixedClock
from tests.support.environment import drop_our_variables

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Cli:
    def __init__(self, db: Path, clock: FixedClock) -> None:
        self.db = db
        self.clock = clock

    def __call__(
        self, group: click.Group, *args: str, config: Path | None = None, stdin: str = ""
    ) -> Result:
        app = AppContext(config_path=config, db_override=self.db, clock=self.clock)
        try:
            return CliRunner().invoke(group, list(args), obj=app, input=stdin)
        finally:
            app.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    drop_our_variables(monkeypatch)
    return Cli(tmp_path / "cli.db", FixedClock(T0))


def listed(cli: Cli, *flags: str) -> list[dict[str, object]]:
    result = cli(sessions, "list", "--json", *flags)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def test_register_heartbeat_end_and_list(cli: Cli) -> None:
    registered = cli(
        sessions, "register", "codex-1", "--agent", "codex", "--repo", "acme/checkout",
        "--branch", "main", "--task", "cart totals", "--path", "web/cart.ts",
    )  # fmt: skip
    assert (registered.exit_code, registered.output) == (0, "codex-1 registered (codex, 1 path)\n")

    cli.clock.advance(60)
    seen = cli(sessions, "heartbeat", "codex-1", "--path", "api/cart.py", "--branch", "fix")
    assert seen.output == "codex-1 seen (2 paths)\n"
    (row,) = listed(cli)
    assert (row["id"], row["state"], row["branch"]) == ("codex-1", "active", "fix")
    assert row["paths"] == ["web/cart.ts", "api/cart.py"]

    cli.clock.advance(16 * 60)
    assert listed(cli)[0]["state"] == "idle"
    table = cli(sessions, "list").output
    assert "codex-1" in table and "idle" in table and "seen  16m ago" in table

    assert cli(sessions, "end", "codex-1").output == "codex-1 ended\n"
    assert listed(cli) == []
    assert [r["state"] for r in listed(cli, "--all")] == ["ended"]
    assert cli(sessions, "list").output == "no active sessions\n"


@pytest.mark.parametrize(
    "args",
    [("register", "../x"), ("heartbeat", "nobody"), ("end", "nobody"), ("register", "a..b")],
)
def test_mistakes_are_one_line_and_exit_1(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(sessions, *args)

    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1


def test_the_hook_command_exits_0_even_when_the_settings_are_broken(
    cli: Cli, tmp_path: Path
) -> None:
    payload = {"session_id": "s-1", "cwd": str(tmp_path), "hook_event_name": "SessionStart"}

    result = cli(hook, "claude-code", config=tmp_path / "missing.toml", stdin=json.dumps(payload))

    assert (result.exit_code, result.output) == (0, "")


def test_the_hook_command_registers_through_the_full_cli(cli: Cli, tmp_path: Path) -> None:
    cli(sessions, "list")  # creates the DB, as any earlier command would have
    payload = {"session_id": "s-1", "cwd": str(tmp_path), "hook_event_name": "SessionStart"}

    result = cli(hook, "claude-code", stdin=json.dumps(payload))

    assert (result.exit_code, result.output) == (0, "")
    assert [r["id"] for r in listed(cli)] == ["s-1"]
