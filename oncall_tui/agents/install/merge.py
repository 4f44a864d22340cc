"""Our hook entries merged into an agent's configuration document: dict in, dict out, no IO.

The user's own hooks and every key we do not know are kept as they are. Our entries are
recognised by their command (``oncall-tui [--db PATH] hook AGENT``, whatever path the
executable has), so an entry written by an older install, or for another path of the
executable, is replaced where it stands rather than duplicated. Merging an already merged
document returns it unchanged: that is what makes ``hooks install`` idempotent.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from oncall_tui.agents.install.spec import AgentHooks, Layout, Wiring

EXECUTABLE = "oncall-tui"

Document = dict[str, Any]


class ConfigShapeError(ValueError):
    """The document is valid JSON but not shaped as the agent reads it: we will not guess."""


def hook_command(executable: str, agent: str, db: str | None = None) -> str:
    """The shell command an agent runs: ``EXECUTABLE [--db DB] hook AGENT``, quoted for sh."""
    return shlex.join([executable, *(["--db", db] if db else []), "hook", agent])


def hook_agent(command: object) -> str | None:
    """The agent named by one of our hook commands; ``None`` for any other command.

    Ours: a word whose file name is ``oncall-tui`` followed (after global options) by
    ``hook`` and the agent. A command shlex cannot split is not ours.
    """
    if not isinstance(command, str) or EXECUTABLE not in command:
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for index, word in enumerate(words):
        if PurePath(word).name != EXECUTABLE:
            continue
        rest = words[index + 1 :]
        if "hook" in rest:
            after = rest[rest.index("hook") + 1 :]
            return after[0] if after else ""
    return None


def is_ours(command: object) -> bool:
    return hook_agent(command) is not None


def entry_commands(layout: Layout, entry: object) -> list[str]:
    """The commands of one entry of an event's list (a group's handlers, or the entry itself)."""
    if not isinstance(entry, Mapping):
        return []
    if layout is Layout.GROUPED:
        handlers = entry.get("hooks")
        if not isinstance(handlers, list):
            return []
        return [h["command"] for h in handlers if _is_handler(h, "command")]
    keys = ("command",) if layout is Layout.CURSOR else ("bash", "powershell", "command")
    return [entry[key] for key in keys if _is_handler(entry, key)]


def _is_handler(value: object, key: str) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get(key), str)


def our_entry(layout: Layout, wiring: Wiring, command: str) -> dict[str, Any]:
    """Our entry for one event, keys in the order the agents' docs show them."""
    if layout is Layout.GROUPED:
        group: dict[str, Any] = {} if wiring.matcher is None else {"matcher": wiring.matcher}
        group["hooks"] = [{"type": "command", "command": command}]
        return group
    entry: dict[str, Any] = (
        {"command": command} if layout is Layout.CURSOR else {"type": "command", "bash": command}
    )
    if wiring.matcher is not None:
        entry["matcher"] = wiring.matcher
    return entry


def _without_ours(layout: Layout, entries: list[Any]) -> tuple[list[Any], int | None]:
    """``entries`` with our commands taken out, and where the first of them stood (among the
    entries kept). A user's group that also held one of ours keeps its other handlers."""
    kept: list[Any] = []
    first: int | None = None
    for entry in entries:
        if not any(is_ours(c) for c in entry_commands(layout, entry)):
            kept.append(entry)
            continue
        if first is None:
            first = len(kept)
        if layout is Layout.GROUPED:
            others = [
                h
                for h in entry["hooks"]
                if not (_is_handler(h, "command") and is_ours(h["command"]))
            ]
            if others:
                kept.append({**entry, "hooks": others})
    return kept, first


def _hooks_table(document: Mapping[str, Any]) -> Mapping[str, Any]:
    table = document.get("hooks", {})
    if not isinstance(table, Mapping):
        raise ConfigShapeError(f'"hooks" is a {type(table).__name__}, not an object')
    return table


def merge(spec: AgentHooks, document: Mapping[str, Any], command: str) -> Document:
    """``document`` with exactly our entries for ``spec``'s events, running ``command``.

    Events we do not wire keep their entries, except ours (left over from an older install),
    which are removed; an event list that only held ours goes with them.
    """
    if not isinstance(document, Mapping):
        raise ConfigShapeError("the file's top level is not an object")
    table = _hooks_table(document)
    wired = {w.event: w for w in spec.wiring}
    for event in wired:
        if event in table and not isinstance(table[event], list):
            raise ConfigShapeError(f'"hooks.{event}" is not a list')
    merged_table: dict[str, Any] = {}
    for event, entries in table.items():
        if not isinstance(entries, list):
            merged_table[event] = entries
            continue
        kept, first = _without_ours(spec.layout, entries)
        if event in wired:
            kept.insert(
                len(kept) if first is None else first, our_entry(spec.layout, wired[event], command)
            )
        elif first is not None and not kept:
            continue
        merged_table[event] = kept
    for event, wiring in wired.items():
        if event not in merged_table:
            merged_table[event] = [our_entry(spec.layout, wiring, command)]
    merged: Document = dict(document)
    if spec.layout is not Layout.GROUPED and "version" not in merged:
        merged = {"version": 1, **merged}
    merged["hooks"] = merged_table
    return merged


@dataclass(frozen=True)
class Wired:
    """How far a document wires ``spec``'s agent to us."""

    present: tuple[str, ...]
    """Events with one of our entries for this agent, in the spec's order."""
    missing: tuple[str, ...]
    commands: tuple[str, ...]
    """Our distinct commands for this agent, in the order found."""

    @property
    def complete(self) -> bool:
        return not self.missing


def inspect(spec: AgentHooks, document: Mapping[str, Any]) -> Wired:
    """Which of ``spec``'s events ``document`` hooks to ``oncall-tui hook AGENT``."""
    table = _hooks_table(document) if isinstance(document, Mapping) else {}
    present: list[str] = []
    commands: list[str] = []
    for event in spec.events:
        entries = table.get(event)
        found = [
            c
            for entry in (entries if isinstance(entries, list) else [])
            for c in entry_commands(spec.layout, entry)
            if hook_agent(c) == spec.agent
        ]
        if found:
            present.append(event)
        commands.extend(c for c in found if c not in commands)
    missing = tuple(e for e in spec.events if e not in present)
    return Wired(tuple(present), missing, tuple(commands))
