"""The Claude Code plugin shipped in the package: its files in the formats Claude Code reads,
and its installation into a user's home.

Formats, from Claude Code's plugins reference (https://code.claude.com/docs/en/plugins-reference):
- ``.claude-plugin/plugin.json``: the manifest; ``name`` is the one required field, kebab-case
  without spaces, and prefixes the plugin's components.
- ``monitors/monitors.json``: a list of monitors, each with ``name`` (unique in the plugin),
  ``command`` (run for the session in its working directory) and ``description``; ``when`` is
  optional, ``"always"`` or ``"on-skill-invoke:<skill>"``.
- ``hooks/hooks.json``: ``{"hooks": {EVENT: [{"matcher"?, "hooks": [{"type": "command",
  "command"}]}]}}``, the format of the ``hooks`` key of settings files (hooks reference,
  https://code.claude.com/docs/en/hooks).
Where a user's plugin is loaded without a marketplace: their skills directory
(https://code.claude.com/docs/en/plugins/create, "Develop without a marketplace").
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from oncall_tui.agents.claude_plugin.install import (
    PLUGIN_NAME,
    install_plugin,
    installed_plugin_dir,
    plugin_files,
)
from oncall_tui.cli import cli

HOOK_EVENTS = {"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolBatch"}
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def packaged_json(relative: str) -> Any:
    return json.loads(plugin_files()[relative])


def our_command(command: str) -> tuple[click.Command, list[str]]:
    """The CLI command a plugin's command line reaches, and the arguments left for it."""
    argv = shlex.split(command)
    assert argv[0] == "oncall-tui"
    found: click.Command = cli
    args = argv[1:]
    with click.Context(cli) as ctx:
        while isinstance(found, click.Group) and args and not args[0].startswith("-"):
            sub = found.get_command(ctx, args[0])
            assert sub is not None, f"no command {args[0]!r} in {command!r}"
            found, args = sub, args[1:]
    return found, args


def test_the_manifest_names_the_plugin() -> None:
    manifest = packaged_json(".claude-plugin/plugin.json")
    assert manifest["name"] == PLUGIN_NAME and KEBAB.match(manifest["name"])
    assert isinstance(manifest["description"], str) and manifest["description"]
    assert re.match(r"^\d+\.\d+\.\d+$", manifest["version"])


def test_the_monitor_runs_watch_for_the_sessions_directory() -> None:
    monitors = packaged_json("monitors/monitors.json")
    assert isinstance(monitors, list) and len(monitors) == 1
    (monitor,) = monitors
    assert {"name", "command", "description"} <= monitor.keys()
    assert monitor.get("when", "always") == "always"
    assert KEBAB.match(monitor["name"])
    assert shlex.split(monitor["command"]) == ["oncall-tui", "watch", "--cwd", "."]
    command, args = our_command(monitor["command"])
    assert command.name == "watch"
    assert command.make_context("watch", args).params["cwd"] == Path(".")


def test_the_hooks_call_the_claude_code_hook_on_every_event_it_answers() -> None:
    config = packaged_json("hooks/hooks.json")
    assert set(config["hooks"]) == HOOK_EVENTS
    for event, groups in config["hooks"].items():
        for group in groups:
            assert group["hooks"] == [{"type": "command", "command": "oncall-tui hook claude-code"}]
            if event == "PreToolUse":
                assert set(group["matcher"].split("|")) == {
                    "Edit",
                    "Write",
                    "MultiEdit",
                    "NotebookEdit",
                    "Bash",
                }
    command, args = our_command("oncall-tui hook claude-code")
    assert (command.name, args) == ("claude-code", [])


def test_the_plugin_is_what_the_package_ships() -> None:
    assert set(plugin_files()) == {
        ".claude-plugin/plugin.json",
        "README.md",
        "hooks/hooks.json",
        "monitors/monitors.json",
    }


def test_install_copies_the_plugin_into_the_users_skills_directory(tmp_path: Path) -> None:
    home = tmp_path / "home"

    target = install_plugin(home)

    assert target == home / ".claude" / "skills" / PLUGIN_NAME == installed_plugin_dir(home)
    installed = {
        str(p.relative_to(target)): p.read_bytes() for p in target.rglob("*") if p.is_file()
    }
    assert installed == plugin_files()


def test_install_again_changes_nothing_restores_ours_and_keeps_the_users(tmp_path: Path) -> None:
    home = tmp_path / "home"
    target = install_plugin(home)
    manifest = target / ".claude-plugin" / "plugin.json"
    monitors = target / "monitors" / "monitors.json"
    before = manifest.stat().st_mtime_ns
    monitors.write_text("[]")
    (target / "notes.txt").write_text("mine")

    assert install_plugin(home) == target

    assert manifest.stat().st_mtime_ns == before, "an unchanged file is not rewritten"
    assert monitors.read_bytes() == plugin_files()["monitors/monitors.json"]
    assert (target / "notes.txt").read_text() == "mine"
    assert not list(target.rglob(".*.json.*")), "no temporary file is left behind"


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(home / "oncall.db"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(home)},
        timeout=60,
        check=False,
    )


def test_hooks_install_claude_code_plugin_places_it_at_user_scope(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()

    dry = run_cli(home, "hooks", "install", "claude-code", "--plugin", "--dry-run")
    assert dry.returncode == 0 and "dry run" in dry.stdout
    assert not (home / ".claude").exists()

    done = run_cli(home, "hooks", "install", "claude-code", "--plugin")
    assert done.returncode == 0, done.stderr
    assert str(installed_plugin_dir(home)) in done.stdout
    assert (installed_plugin_dir(home) / ".claude-plugin" / "plugin.json").is_file()
    assert not (home / ".claude" / "settings.json").exists(), "the plugin carries the hooks"

    wrong = run_cli(home, "hooks", "install", "codex", "--plugin")
    assert wrong.returncode == 2 and "--plugin is for claude-code" in wrong.stderr
