"""What a hook process imports to answer without writing: the moments a working session repeats.

Every hook call is a new process, and what it imports costs it more than what it reads:
``dataclasses`` alone imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``). So the
real command runs here in a process that reports, as it exits, which of the modules its read
path must never need were loaded. A moment that went down the slow path (the store, pydantic)
would load them too, so each is first run once to reach its steady state; a write is handed to
a running ``serve``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from typing import Any

import pytest

from tests.integration.conftest import ServeFactory
from tests.integration.test_hook import HOOK_TIMEOUT_S, World
from tests.integration.test_hook import started as started  # the fixtures, reused
from tests.integration.test_hook import world as world
from tests.integration.test_serve_answers_locally import serving
from tests.support.environment import without_our_variables

NEVER_ON_THE_READ_PATH = (
    "dataclasses",
    "inspect",
    "typing",
    "subprocess",
    "socket",
    "encodings.idna",
)
"""Each a few milliseconds of a hook: ``typing`` (annotations need it only for the type
checker), ``subprocess`` (git is asked only where the checkout's files cannot answer),
``socket`` and the "idna" codec (a handed write speaks to 127.0.0.1 through ``_socket``)."""
REPORTING = (
    "import sys; sys.argv = ['oncall-tui', *sys.argv[1:]]; "
    "from oncall_tui.__main__ import main; main(); "
    f"sys.stderr.write(repr(sorted(set(sys.modules) & {set(NEVER_ON_THE_READ_PATH)!r})))"
)
"""``oncall-tui ARGS``, then the forbidden modules it loaded, on stderr."""


def loaded_by_hook(world: World, payload: dict[str, Any]) -> tuple[str, list[str]]:
    """What the hook printed, and which of :data:`NEVER_ON_THE_READ_PATH` it imported."""
    env = without_our_variables()
    done = subprocess.run(
        [sys.executable, "-c", REPORTING, "--db", str(world.db), "hook", "claude-code"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=world.repo,
        env=env,
        timeout=HOOK_TIMEOUT_S,
        check=True,
    )
    loaded: list[str] = ast.literal_eval(done.stderr)
    return done.stdout, loaded


@pytest.mark.parametrize(
    "moment", ["prompt, nothing new", "edit under an incident", "edit elsewhere"]
)
def test_the_read_path_imports_neither_dataclasses_nor_inspect(started: World, moment: str) -> None:
    payload = {
        "prompt, nothing new": started.event("UserPromptSubmit", prompt="go on"),
        "edit under an incident": started.edit("services/processor/retry.py"),
        "edit elsewhere": started.edit("docs/notes.md"),
    }[moment]
    loaded_by_hook(started, payload)  # the news told, the file seen, the answer cached

    printed, loaded = loaded_by_hook(started, payload)

    assert loaded == []
    if moment == "edit under an incident":
        decision = json.loads(printed)["hookSpecificOutput"]
        assert decision["permissionDecision"] == "ask"
        assert (
            "services/processor/retry.py belongs to payment-processor"
            in decision["permissionDecisionReason"]
        )
    else:
        assert printed == ""


def test_a_write_handed_to_serve_loads_neither(serve_process: ServeFactory, world: World) -> None:
    """The start of every write path: a running ``serve`` takes the write, so the hook's own
    process stays on its read path's imports."""
    serving(serve_process, world)

    printed, loaded = loaded_by_hook(world, world.event("SessionStart", source="startup"))

    assert "### Being assessed by the on-call engineer" in printed, "registered by serve"
    assert loaded == []


def test_the_slow_path_is_what_loads_them(world: World) -> None:
    """The report itself is trusted: a session start registers through the store, which loads
    them (all but the network's: it speaks to no server)."""
    _printed, loaded = loaded_by_hook(world, world.event("SessionStart", source="startup"))

    assert {"dataclasses", "inspect", "typing", "subprocess"} <= set(loaded)
