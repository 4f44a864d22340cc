"""The files behind ``hooks install`` and ``hooks status``: read, diff, back up, write.

A file we cannot read as the agent would (not JSON, not an object, hooks not shaped as the
agent expects) is refused, never overwritten: the user's configuration is theirs. An existing
file is copied to ``FILE.bak-YYYYmmddHHMMSS`` before it changes, and replaced atomically, so
an agent starting at that moment reads the old file or the new one, never half of either.
"""

from __future__ import annotations

import difflib
import json
import os
import shlex
import shutil
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from oncall_tui.agents.export.atomic import write_atomic
from oncall_tui.agents.install.merge import (
    EXECUTABLE,
    ConfigShapeError,
    Document,
    Wired,
    inspect,
    merge,
)
from oncall_tui.agents.install.spec import AgentHooks, Scope

NEW_FILE_MODE = 0o644
"""A new file holds only our hooks; an existing one keeps its own mode."""


class InstallError(ValueError):
    """A configuration file we refuse to touch, with the reason the user can act on."""


def read_document(path: Path) -> tuple[str, Document]:
    """The text and the JSON object of ``path``; ``("", {})`` when it does not exist.

    An empty file counts as an empty object (``touch``-ed files are common); anything else that
    is not a JSON object is refused.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "", {}
    except UnicodeDecodeError as exc:
        raise InstallError(f"{path} is not UTF-8 text; not touching it") from exc
    if not text.strip():
        return text, {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstallError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg});"
            " fix or move it, then run this again"
        ) from exc
    if not isinstance(document, dict):
        raise InstallError(f"{path}: the top level is not a JSON object; not touching it")
    return text, document


def render(document: Mapping[str, Any], like: str = "") -> str:
    """``document`` as JSON text, indented as ``like`` (the file it replaces) is, 2 by default."""
    return json.dumps(document, indent=_indent_of(like), ensure_ascii=False) + "\n"


def _indent_of(text: str) -> int | str:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            prefix = line[: len(line) - len(stripped)]
            return len(prefix) if set(prefix) == {" "} else prefix
    return 2


def unified_diff(path: Path, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=str(path) if before else "/dev/null",
        tofile=str(path),
    )
    return "".join(lines)


@dataclass(frozen=True)
class Plan:
    """What installing one agent's hooks into one file would do."""

    path: Path
    before: str
    after: str
    exists: bool

    @property
    def changes(self) -> bool:
        return self.before != self.after

    @property
    def diff(self) -> str:
        return unified_diff(self.path, self.before, self.after)


def plan_install(spec: AgentHooks, path: Path, command: str) -> Plan:
    """The merged file, computed and not written."""
    exists = path.exists()
    before, document = read_document(path)
    try:
        merged = merge(spec, document, command)
    except ConfigShapeError as exc:
        raise InstallError(f"{path}: {exc}; not touching it") from exc
    if merged == document and exists and before.strip():
        return Plan(path, before, before, exists)  # already installed: keep the bytes as they are
    return Plan(path, before, render(merged, before), exists)


def backup_path(path: Path, now: datetime) -> Path:
    """``FILE.bak-YYYYmmddHHMMSS``, with ``-N`` added if one was already made that second."""
    base = path.with_name(f"{path.name}.bak-{now:%Y%m%d%H%M%S}")
    candidate, n = base, 1
    while candidate.exists():
        candidate, n = base.with_name(f"{base.name}-{n}"), n + 1
    return candidate


def apply(plan: Plan, now: datetime) -> Path | None:
    """Write ``plan`` (backing the old file up first); the backup's path, if one was made."""
    if not plan.changes:
        return None
    plan.path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    mode = NEW_FILE_MODE
    if plan.exists:
        mode = stat.S_IMODE(plan.path.stat().st_mode)
        backup = backup_path(plan.path, now)
        shutil.copy2(plan.path, backup)
    # A symlinked file (dotfiles kept in a repository) is written through: replacing the link
    # with a regular file would quietly detach it from where the user keeps it.
    write_atomic(plan.path.resolve(), plan.after.encode("utf-8"), mode)
    return backup


def hook_executable() -> str:
    """The absolute path of the ``oncall-tui`` executable, so hooks work from any directory.

    The running one if it was started by that name; else the one beside this interpreter (a
    virtualenv's ``bin``, e.g. under ``python -m oncall_tui``); else the one on ``PATH``; else the
    bare name, left to the agent's ``PATH``.
    """
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name == EXECUTABLE:
        found = shutil.which(argv0)
        if found:
            return os.path.abspath(found)
    beside = Path(sys.executable).parent / EXECUTABLE
    if _is_executable(beside):
        return str(beside.absolute())
    on_path = shutil.which(EXECUTABLE)
    return os.path.abspath(on_path) if on_path else EXECUTABLE


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def command_resolves(command: str) -> bool:
    """Whether the program ``command`` starts with exists and can be run."""
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if not words:
        return False
    program = Path(words[0]).expanduser()
    if "/" in words[0]:
        return _is_executable(program)
    return shutil.which(words[0]) is not None


@dataclass(frozen=True)
class ScopeStatus:
    """One agent's hooks at one scope, as ``hooks status`` reports them."""

    agent: str
    scope: Scope
    path: Path
    exists: bool
    wired: Wired | None
    """``None`` when the file is missing or unreadable."""
    resolves: bool | None
    """Whether every command found can be run; ``None`` when none was found."""
    problem: str | None = None

    @property
    def state(self) -> str:
        if self.problem:
            return "unreadable"
        if self.wired is None or not self.wired.present:
            return "not wired"
        return "wired" if self.wired.complete else "partly wired"

    def as_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "scope": self.scope.value,
            "file": str(self.path),
            "exists": self.exists,
            "state": self.state,
            "events": list(self.wired.present) if self.wired else [],
            "missing": list(self.wired.missing) if self.wired else [],
            "commands": list(self.wired.commands) if self.wired else [],
            "command_resolves": self.resolves,
            "problem": self.problem,
        }


def scope_status(spec: AgentHooks, scope: Scope, path: Path) -> ScopeStatus:
    exists = path.exists()
    try:
        _, document = read_document(path)
        wired = inspect(spec, document) if exists else None
    except (InstallError, ConfigShapeError) as exc:
        return ScopeStatus(spec.agent, scope, path, exists, None, None, str(exc))
    commands = wired.commands if wired else ()
    resolves = all(command_resolves(c) for c in commands) if commands else None
    return ScopeStatus(spec.agent, scope, path, exists, wired, resolves)


def codex_hooks_disabled(config_toml: Path) -> str | None:
    """Why Codex would not run hooks, read from its ``config.toml``; ``None`` if it would.

    Hooks are on by default; ``[features] hooks = false`` (or the deprecated ``codex_hooks``)
    turns them off (https://developers.openai.com/codex/hooks).
    """
    try:
        with config_toml.open("rb") as handle:
            config = tomllib.load(handle)
    except FileNotFoundError:
        return None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return f"{config_toml} is not valid TOML ({exc}): Codex may not start"
    features = config.get("features")
    if not isinstance(features, dict):
        return None
    for key in ("hooks", "codex_hooks"):
        if features.get(key) is False:
            return f"{config_toml} turns hooks off ([features] {key} = false)"
    return None
