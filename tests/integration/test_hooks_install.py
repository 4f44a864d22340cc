"""``oncall-tui hooks install`` and ``hooks status`` run as a user runs them: a process, real
files under a HOME of the test's own, and the written Claude Code hook run for real afterwards.

Existing files are shaped as the agents' docs show them: Claude Code settings.json
(https://code.claude.com/docs/en/hooks), Codex hooks.json and config.toml
(https://developers.openai.com/codex/hooks), Cursor hooks.json
(https://cursor.com/docs/agent/hooks), Gemini settings.json
(https://geminicli.com/docs/hooks/reference), Copilot .github/hooks/*.json
(https://docs.github.com/en/copilot/reference/hooks-reference).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.agents.install.spec import SPECS
from tests.integration.test_hook import SESSION, World, hook_event
from tests.support.agent_hooks import make_world, stored_session

TIMEOUT_S = 60

USER_SETTINGS = """{
    "model": "opus",
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [{"type": "command", "command": "~/.claude/validate-bash.sh"}]
            }
        ]
    },
    "permissions": {"deny": ["Read(./.env)"]}
}
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Machine:
    """A home directory and a checkout, both empty of agent configuration at first."""

    home: Path
    project: Path

    def run(self, *args: str, cwd: Path | None = None) -> Run:
        env = {k: v for k, v in os.environ.items() if k not in ("CODEX_HOME", "COPILOT_HOME")}
        done = subprocess.run(
            [sys.executable, "-m", "oncall_tui", *args],
            capture_output=True,
            text=True,
            cwd=cwd or self.project,
            env={**env, "HOME": str(self.home)},
            timeout=TIMEOUT_S,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def status(self) -> dict[tuple[str, str], dict[str, Any]]:
        run = self.run("hooks", "status", "--json", "--project-dir", str(self.project))
        assert run.returncode == 0, run.stderr
        return {(e["agent"], e["scope"]): e for e in json.loads(run.stdout)}


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    (tmp_path / "home").mkdir()
    (tmp_path / "checkout").mkdir()
    return Machine(tmp_path / "home", tmp_path / "checkout")


def install(machine: Machine, agent: str, *extra: str, scope: str = "project") -> Run:
    return machine.run(
        "hooks", "install", agent, "--scope", scope, "--project-dir", str(machine.project), *extra
    )


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.bak-*"))


def test_a_fresh_install_writes_every_event_with_an_absolute_command(machine: Machine) -> None:
    run = install(machine, "claude-code")

    settings = machine.project / ".claude" / "settings.json"
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"claude-code: hooks installed in {settings}\n")
    hooks = json.loads(settings.read_text())["hooks"]
    assert list(hooks) == list(SPECS["claude-code"].events)
    command = hooks["SessionStart"][0]["hooks"][0]["command"]
    executable, *rest = shlex.split(command)
    assert Path(executable).is_absolute() and Path(executable).name == "oncall-tui"
    assert rest == ["hook", "claude-code"]
    assert hooks["PreToolUse"][0]["matcher"] == "Edit|Write|MultiEdit|NotebookEdit|Bash"
    assert backups(settings) == []


def test_the_users_settings_are_kept_backed_up_and_a_rerun_changes_nothing(
    machine: Machine,
) -> None:
    settings = machine.project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(USER_SETTINGS)

    first = install(machine, "claude-code")
    written = settings.read_bytes()
    second = install(machine, "claude-code")

    assert first.returncode == 0, first.stderr
    merged = json.loads(written)
    assert merged["model"] == "opus"
    assert merged["permissions"] == {"deny": ["Read(./.env)"]}
    assert merged["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == "~/.claude/validate-bash.sh"
    assert written.decode().startswith('{\n    "model"')  # the file's own 4-space indent
    [backup] = backups(settings)
    assert re.fullmatch(r"settings\.json\.bak-\d{14}", backup.name)
    assert backup.read_text() == USER_SETTINGS
    assert "backup of the previous file: " + str(backup) in first.stdout
    assert (second.returncode, second.stdout.splitlines()[0]) == (
        0,
        f"claude-code: already installed in {settings}",
    )
    assert settings.read_bytes() == written
    assert backups(settings) == [backup]


def test_a_dry_run_prints_the_diff_and_writes_nothing(machine: Machine) -> None:
    settings = machine.project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(USER_SETTINGS)

    run = install(machine, "claude-code", "--dry-run")
    fresh = install(machine, "cursor", "--dry-run")

    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"--- {settings}\n+++ {settings}\n@@ ")
    assert '+        "SessionStart": [' in run.stdout
    assert "\n }\ndry run: nothing written\n" in run.stdout
    assert settings.read_text() == USER_SETTINGS
    assert backups(settings) == []
    assert fresh.stdout.startswith("--- /dev/null\n")
    assert not (machine.project / ".cursor").exists()


def test_a_symlinked_settings_file_is_written_through(machine: Machine, tmp_path: Path) -> None:
    kept = tmp_path / "dotfiles" / "claude-settings.json"
    kept.parent.mkdir()
    kept.write_text(USER_SETTINGS)
    link = machine.home / ".claude" / "settings.json"
    link.parent.mkdir()
    link.symlink_to(kept)

    run = install(machine, "claude-code", scope="user")

    assert run.returncode == 0, run.stderr
    assert link.is_symlink()
    assert "SessionStart" in json.loads(kept.read_text())["hooks"]
    assert [b.read_text() for b in backups(link)] == [USER_SETTINGS]


@pytest.mark.parametrize("text", ['{"hooks": {', "[1, 2]"], ids=["truncated", "not an object"])
def test_a_file_that_is_not_a_json_object_is_refused_untouched(machine: Machine, text: str) -> None:
    settings = machine.project / ".gemini" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(text)

    run = install(machine, "gemini")

    assert run.returncode == 1
    assert str(settings) in run.stderr
    assert "not valid JSON" in run.stderr or "not a JSON object" in run.stderr
    assert settings.read_text() == text
    assert backups(settings) == []


@pytest.mark.parametrize("agent", list(SPECS))
def test_every_agent_installs_at_project_scope_and_shows_as_wired(
    machine: Machine, agent: str
) -> None:
    run = install(machine, agent)

    assert run.returncode == 0, run.stderr
    entry = machine.status()[(agent, "project")]
    assert (entry["state"], entry["missing"], entry["command_resolves"]) == ("wired", [], True)
    assert entry["events"] == list(SPECS[agent].events)


def test_status_before_and_after_a_user_scope_install(machine: Machine) -> None:
    before = machine.status()
    run = machine.run("--db", "/srv/oncall/oncall.db", "hooks", "install", "codex")
    after = machine.status()

    hooks_json = machine.home / ".codex" / "hooks.json"
    assert run.returncode == 0, run.stderr
    assert "review it in /hooks" in run.stdout
    assert {e["state"] for e in before.values()} == {"not wired"}
    assert len(before) == 2 * len(SPECS)
    entry = after[("codex", "user")]
    assert (entry["file"], entry["state"], entry["command_resolves"]) == (
        str(hooks_json),
        "wired",
        True,
    )
    [command] = entry["commands"]
    assert shlex.split(command)[1:] == ["--db", "/srv/oncall/oncall.db", "hook", "codex"]
    assert after[("codex", "project")]["state"] == "not wired"


def test_status_names_missing_events_and_a_command_that_no_longer_runs(machine: Machine) -> None:
    assert install(machine, "cursor").returncode == 0
    hooks_json = machine.project / ".cursor" / "hooks.json"
    document = json.loads(hooks_json.read_text())
    del document["hooks"]["stop"]
    for entries in document["hooks"].values():
        entries[0]["command"] = "/gone/venv/bin/oncall-tui hook cursor"
    hooks_json.write_text(json.dumps(document))

    entry = machine.status()[("cursor", "project")]
    text = machine.run("hooks", "status", "--project-dir", str(machine.project)).stdout

    assert (entry["state"], entry["missing"], entry["command_resolves"]) == (
        "partly wired",
        ["stop"],
        False,
    )
    [line] = [x for x in text.splitlines() if x.startswith("cursor") and "project" in x]
    assert "missing: stop" in line
    assert "command not found: /gone/venv/bin/oncall-tui hook cursor" in line


def test_codex_warns_when_its_config_turns_hooks_off(machine: Machine) -> None:
    config = machine.home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('model = "gpt-5"\n\n[features]\nhooks = false\n')

    run = install(machine, "codex", scope="user")

    assert run.returncode == 0, run.stderr
    assert f"warning: {config} turns hooks off ([features] hooks = false)" in run.stdout
    assert config.read_text() == 'model = "gpt-5"\n\n[features]\nhooks = false\n'


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def test_the_installed_claude_code_hook_runs_for_real(world: World, tmp_path: Path) -> None:
    machine = Machine(tmp_path / "home", world.repo)
    machine.home.mkdir()
    run = machine.run(
        "--db",
        str(world.db),
        "hooks",
        "install",
        "claude-code",
        "--scope",
        "project",
        cwd=world.repo,
    )
    assert run.returncode == 0, run.stderr
    settings = json.loads((world.repo / ".claude" / "settings.json").read_text())
    command = settings["hooks"]["SessionStart"][0]["hooks"][0]["command"]

    # As Claude Code runs it: through a shell, from the checkout, the event on stdin.
    payload = hook_event("SessionStart", SESSION, world.repo, source="startup", model="claude")
    done = subprocess.run(
        command,
        shell=True,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=world.repo / "services",
        env={**os.environ, "HOME": str(machine.home)},
        timeout=TIMEOUT_S,
        check=False,
    )

    assert (done.returncode, done.stderr) == (0, "")
    session = stored_session(world, SESSION)
    assert session is not None and session["agent"] == "claude-code"
