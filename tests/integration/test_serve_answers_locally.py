"""A running ``serve`` takes the writes of this machine's hooks and decision commands.

``serve`` is a real process on the test's DB; the hooks and commands are real processes too.
To show a write was made by ``serve`` and not by the process that asked, that process runs with
pydantic made unimportable: the store's journal side and the actions cannot load without it, so
an answer can only have come from ``serve``. Without ``serve`` (stopped, or killed with its lease
still live) the same commands decide themselves.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import pytest

from oncall_tui.agents.local_api import POST_TIMEOUT_S, find
from oncall_tui.server.local_api import local_url
from tests.integration.conftest import ServeFactory, ServeProcess
from tests.integration.test_hook import HOOK_TIMEOUT_S, SESSION, World, git
from tests.integration.test_hook import world as world  # the fixture, reused
from tests.support.environment import without_our_variables
from tests.support.receiver_http import request

WITHOUT_PYDANTIC = (
    "import sys; sys.modules['pydantic'] = None; sys.argv = ['oncall-tui', *sys.argv[1:]]; "
    "from oncall_tui.__main__ import main; main()"
)
"""``oncall-tui ARGS`` in a process that cannot import pydantic (nor, so, the store's writer)."""
PUBLISH_TIMEOUT_S = 10.0


def oncall(
    world: World,
    *args: str,
    stdin: bytes = b"",
    lean: bool = False,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``oncall-tui ARGS`` as alice, without the machine's settings; ``env``: variables set."""
    prefix = ["-c", WITHOUT_PYDANTIC] if lean else ["-m", "oncall_tui"]
    return subprocess.run(
        [sys.executable, *prefix, "--db", str(world.db), *args],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        cwd=world.repo,
        env={**without_our_variables(), "ONCALL_TUI_USER": "alice", **(env or {})},
        timeout=HOOK_TIMEOUT_S,
        check=False,
    )


def hook(
    world: World,
    payload: dict[str, Any],
    *,
    lean: bool = False,
    env: Mapping[str, str] | None = None,
) -> str:
    stdin = json.dumps(payload).encode()
    done = oncall(world, "hook", "claude-code", stdin=stdin, lean=lean, env=env)
    assert (done.returncode, done.stderr) == (0, ""), done
    return done.stdout


def serving(serve_process: ServeFactory, world: World) -> ServeProcess:
    """``serve`` on the world's DB, once it publishes where it answers (a second at most)."""
    served = serve_process(world.db)
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    while find(world.store.conn) is None:
        if time.monotonic() > deadline or served.process.poll() is not None:
            pytest.fail(f"serve did not publish its address: {served.stderr.read_text()[-2000:]}")
        time.sleep(0.02)
    return served


def stop_between_writes(served: ServeProcess, world: World, attempts: int = 50) -> None:
    """SIGSTOP ``serve`` at a moment it holds no write lock: stopped inside a write (its
    leases are renewed every second) it would keep the DB locked, and the hook, which never
    waits long for a lock, would rightly register nothing: another case than this test's."""
    for _ in range(attempts):
        served.process.send_signal(signal.SIGSTOP)
        probe = sqlite3.connect(world.db, timeout=0.05, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:  # stopped mid-write: let it finish, try again
            served.process.send_signal(signal.SIGCONT)
            time.sleep(0.05)
        finally:
            probe.close()
    pytest.fail("serve was always caught holding the write lock")


def pending(world: World) -> str:
    (row,) = world.rows("SELECT id FROM pushes WHERE state = 'pending' ORDER BY number DESC")[:1]
    return str(row[0])


def test_serve_publishes_where_this_machine_reaches_it(
    serve_process: ServeFactory, world: World
) -> None:
    served = serving(serve_process, world)
    api = find(world.store.conn)
    assert api is not None
    assert api.url == f"http://127.0.0.1:{served.endpoint.port}"
    assert len(api.secret) >= 32
    assert served.terminate() == 0
    assert find(world.store.conn) is None, "a clean stop gives the address up at once"


def test_a_session_start_is_registered_by_serve(serve_process: ServeFactory, world: World) -> None:
    serving(serve_process, world)
    printed = hook(world, world.event("SessionStart", source="startup"), lean=True)
    assert "### Being assessed by the on-call engineer" in printed
    session = world.session()
    assert (session["repo"], session["branch"]) == (
        "acme-payments/payments-api",
        "fix/processor-retries",
    )
    assert world.rows("SELECT count(*) FROM pushes WHERE state = 'pending'") == [(1,)]


def test_the_hooks_answers_are_the_same_through_serve(
    serve_process: ServeFactory, world: World
) -> None:
    """A new file's first sight (a journal write) and a commit after a shell call, through serve."""
    serving(serve_process, world)
    hook(world, world.event("SessionStart", source="startup"))
    world.approve_pending()
    guarded = hook(world, world.edit("services/processor/new_retry.py"), lean=True)
    decision = json.loads(guarded)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "ask"
    assert "payment-processor" in decision["permissionDecisionReason"]
    seen = world.rows("SELECT data FROM sessions WHERE id = ?", (SESSION,))[0][0]
    assert "services/processor/new_retry.py" in json.loads(seen)["paths"]

    identity = ("-c", "user.name=Dev", "-c", "user.email=dev@example.com")
    git(world.repo, *identity, "commit", "-q", "--allow-empty", "-m", "Retry less")
    head = subprocess.run(
        ["git", "-C", str(world.repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    committed = world.event(
        "PostToolUse",
        tool_name="Bash",
        tool_input={"command": 'git commit -m "Retry less"'},
        tool_response={"stdout": "", "stderr": "", "interrupted": False},
    )
    hook(world, committed, lean=True)
    assert world.rows("SELECT session_id FROM commits WHERE sha = ?", (head,)) == [(SESSION,)]


def test_approve_and_reject_are_decided_by_serve(serve_process: ServeFactory, world: World) -> None:
    serving(serve_process, world)
    hook(world, world.event("SessionStart", source="startup"))
    push = pending(world)
    done = oncall(world, "approve", push, lean=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{push} is approved\n", "")
    (actor,) = world.rows(
        "SELECT actor FROM journal WHERE kind = 'push.approved' ORDER BY seq DESC LIMIT 1"
    )
    assert actor == ("user:alice",)

    again = oncall(world, "approve", push, lean=True)
    assert again.returncode == 1
    assert again.stderr.startswith(f"Error: {push} was already approved by user:alice")
    assert "Traceback" not in again.stderr

    missing = oncall(world, "reject", "P-999", "--reason", "noise", lean=True)
    assert (missing.returncode, missing.stderr) == (1, "Error: no push P-999\n")


def test_decisions_need_serves_own_secret(serve_process: ServeFactory, world: World) -> None:
    """Any local user can reach a loopback port; only the DB's owner can read the secret."""
    served = serving(serve_process, world)
    hook(world, world.event("SessionStart", source="startup"))
    push = pending(world)
    body = json.dumps({"by": "user:mallory"}).encode()
    headers = {"Content-Type": "application/json"}
    for extra in ({}, {"Authorization": "Bearer not-the-secret"}):
        reply = request(
            served.endpoint.port, "POST", f"/pushes/{push}/approve", body, {**headers, **extra}
        )
        assert reply.status == 403, reply
    assert world.rows("SELECT state FROM pushes WHERE id = ?", (push,)) == [("pending",)]


def test_without_serve_the_commands_decide_themselves(
    serve_process: ServeFactory, world: World
) -> None:
    """Killed, serve leaves its lease live for seconds: the refused connection is the answer."""
    served = serving(serve_process, world)
    served.kill()
    assert find(world.store.conn) is not None, "the lease outlives a killed serve for a while"
    printed = hook(world, world.event("SessionStart", source="startup"))
    assert "### Being assessed by the on-call engineer" in printed
    push = pending(world)
    done = oncall(world, "approve", push)
    assert (done.returncode, done.stdout) == (0, f"{push} is approved\n")


def test_a_commit_dir_is_read_only_for_this_machines_hooks(
    serve_process: ServeFactory, world: World
) -> None:
    """A caller without the secret (a remote agent's hook) cannot make serve read a checkout."""
    served = serving(serve_process, world)
    hook(world, world.event("SessionStart", source="startup"))
    identity = ("-c", "user.name=Dev", "-c", "user.email=dev@example.com")
    git(world.repo, *identity, "commit", "-q", "--allow-empty", "-m", "Elsewhere")
    event = {
        "agent": "claude-code",
        "event": "post_tool",
        "cwd": str(world.repo),
        "tool": "shell",
        "repo": {"branch": "fix/processor-retries", "commit_dir": str(world.repo)},
    }
    reply = request(
        served.endpoint.port,
        "POST",
        f"/sessions/{SESSION}/events",
        json.dumps(event).encode(),
        {"Content-Type": "application/json"},
    )
    assert reply.status == 200, reply
    assert world.rows("SELECT count(*) FROM commits") == [(0,)]


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8787"),
        ("0.0.0.0", "http://127.0.0.1:8787"),
        ("::", "http://[::1]:8787"),
        ("10.1.2.3", "http://10.1.2.3:8787"),
    ],
)
def test_a_wildcard_address_is_reached_on_loopback(host: str, url: str) -> None:
    assert local_url(host, 8787) == url


def test_a_serve_that_does_not_answer_costs_the_agent_half_a_second(
    serve_process: ServeFactory, world: World
) -> None:
    """Stopped (SIGSTOP), serve accepts connections and never answers: the hook gives up after
    its post timeout and decides itself, within the agent's second."""
    served = serving(serve_process, world)
    stop_between_writes(served, world)
    try:
        started = time.monotonic()
        printed = hook(world, world.event("SessionStart", source="startup"))
        waited = time.monotonic() - started
    finally:
        served.process.send_signal(signal.SIGCONT)
    assert "### Being assessed by the on-call engineer" in printed
    assert waited >= POST_TIMEOUT_S, "the answer came from the stopped serve?"
