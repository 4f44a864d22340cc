"""The environment a test hands to a process it starts, or keeps for itself: without this
machine's ``ONCALL_TUI_*`` settings, which would otherwise leak into what the test checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PREFIX = "ONCALL_TUI_"
KEPT = frozenset({"ONCALL_TUI_HOOK_SERVER"})
"""Set by the tests themselves (tests/conftest.py), not by the machine: kept for every child."""


def is_machine_setting(name: str) -> bool:
    """Whether ``name`` is one of our variables that the machine, not the test run, set."""
    return name.startswith(PREFIX) and name not in KEPT


XDG_DIRECTORIES = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")


def without_our_variables() -> dict[str, str]:
    """This process's environment less every ``ONCALL_TUI_*`` variable, for a child process."""
    return {k: v for k, v in os.environ.items() if not is_machine_setting(k)}


def quiet_environment(tmp: Path) -> dict[str, str]:
    """:func:`without_our_variables`, and XDG directories under ``tmp``: no config file of the
    machine's is read, and whatever the process writes by default (the exporter's files, a
    cache) lands under ``tmp``."""
    env = without_our_variables()
    for variable in XDG_DIRECTORIES:
        env[variable] = str(tmp / variable.lower())
    return env


def drop_our_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every ``ONCALL_TUI_*`` variable of this process for the test's length."""
    for name in [n for n in os.environ if is_machine_setting(n)]:
        monkeypatch.delenv(name)
