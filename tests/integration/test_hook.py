"""``oncall-tui hook claude-code`` run as Claude Code runs it: a process, hook JSON on stdin,
in a real git checkout, against a DB prepared through the real actions.

Claude Code adds what the hook prints to the model's context (SessionStart, UserPromptSubmit)
or shows it as a permission question (PreToolUse), and a hook that fails or hangs stalls the
agent. So each test pins exactly what is printed, what the journal records, and that every
failure prints nothing and exits 0.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.actions.pushes import approve, edit
from oncall_tui.actions.sessions import register
from oncall_tui.agents.hook.core import PRE_TOOL_USE, SESSION_START, USER_PROMPT_SUBMIT
from oncall_tui.agents.hook.entry import dispatch
from oncall_tui.agents.repo import RepoInfo, repo_info, slug_from_url
from oncall_tui.config import Settings, load_settings
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import SystemClock
from oncall_tui.core.models import IncidentState
from oncall_tui.ingest.record import Ingestor
from oncall_tui.paths import DbLocation, resolve_db
from oncall_tui.store.db import BUSY_TIMEOUT_MS
from oncall_tui.store.journal import Store
from tests.support.samples import sample

SESSION = "5f0c1e2a-7b3d-4c55-9e1f-0a1b2c3d4e5f"
BRANCH = "fix/processor-retries"
REMOTE = "git@github.com:acme-payments/payments-api.git"
CATALOG = """\
services:
  payment-processor:
    repo: acme-payments/payments-api
    paths: [services/processor/**]
  payments-api:
    repo: acme-payments/payments-api
    paths: [services/payments/**]
    depends_on: [payment-processor]
  search:
    repo: acme/search
"""
HOOK_TIMEOUT_S = 30


@dataclass
class HookRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def decision(self) -> dict[str, Any]:
        output: dict[str, Any] = json.loads(self.stdout)["hookSpecificOutput"]
        return output


@dataclass
class World:
    """A checkout, a DB with an active payment-processor incident, and ways to act on both."""

    repo: Path
    db: Path
    store: Store
    rules: Rules

    def hook(self, payload: dict[str, Any] | str, *, env: dict[str, str] | None = None) -> HookRun:
        return run_hook(self.db, payload, cwd=self.repo, env=env)

    def event(self, name: str, **fields: Any) -> dict[str, Any]:
        return hook_event(name, SESSION, self.repo, **fields)

    def edit(self, relative: str, tool: str = "Edit") -> dict[str, Any]:
        return edit_event(SESSION, self.repo, relative, tool)

    def approve_pending(self) -> list[str]:
        rows = self.store.conn.execute("SELECT id FROM pushes WHERE state = 'pending'").fetchall()
        return [approve(self.store, r[0], "user:alice", self.rules).id for r in rows]

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        return self.store.conn.execute(sql, params).fetchall()

    def session(self) -> dict[str, Any]:
        (row,) = self.rows("SELECT data FROM sessions WHERE id = ?", (SESSION,))
        data: dict[str, Any] = json.loads(row[0])
        return data

    def max_seq(self) -> int:
        return self.store.max_seq()


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, timeout=30)


def make_repo(root: Path) -> Path:
    """A checkout of acme-payments/payments-api on a feature branch, with a processor file."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", BRANCH)
    git(root, "remote", "add", "origin", REMOTE)
    for relative in ("services/processor/retry.py", "services/payments/client.py", "docs/notes.md"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("# placeholder\n")
    git(root, "add", ".")
    git(root, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qm", "init")
    return root


def hook_event(name: str, session_id: str, cwd: Path, **fields: Any) -> dict[str, Any]:
    """Hook input as Claude Code sends it (fields per its hooks reference)."""
    return {
        "session_id": session_id,
        "transcript_path": f"/home/dev/.claude/projects/-work-payments-api/{session_id}.jsonl",
        "cwd": str(cwd),
        "hook_event_name": name,
        **fields,
    }


def edit_event(session_id: str, cwd: Path, relative: str, tool: str = "Edit") -> dict[str, Any]:
    path = str(cwd / relative)
    inputs: dict[str, dict[str, Any]] = {
        "Edit": {"file_path": path, "old_string": "a", "new_string": "b"},
        "Write": {"file_path": path, "content": "print('hi')\n"},
        "MultiEdit": {"file_path": path, "edits": [{"old_string": "a", "new_string": "b"}]},
        "NotebookEdit": {"notebook_path": path, "new_source": "x = 1", "cell_id": "c1"},
    }
    tool_input = inputs[tool]
    return hook_event(
        "PreToolUse", session_id, cwd, tool_name=tool, tool_input=tool_input, tool_use_id="toolu_1"
    )


def run_hook(
    db: DbLocation, payload: dict[str, Any] | str, *, cwd: Path, env: dict[str, str] | None = None
) -> HookRun:
    """The real command, as ``.claude/settings.json`` runs it."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(db), "hook", "claude-code"],
        input=text.encode(),
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=HOOK_TIMEOUT_S,
        check=False,
    )
    return HookRun(done.returncode, done.stdout.decode(), done.stderr.decode())


def prepare_db(db: Path, catalog: Path, rules: Rules) -> Store:
    """Catalog loaded and the Alertmanager sample ingested: an incident on payment-processor
    (INC-1 in an empty DB)."""
    store = Store.open(db, SystemClock())
    load_catalog_file(store, rules, catalog, "user:alice")
    body = sample("alertmanager/firing.json").read_bytes()
    result = Ingestor(store, Settings(db=db)).ingest("alertmanager", body, {}, verify="none")
    assert len(result.incidents) == 1, result
    return store


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    rules = Rules()
    store = prepare_db(tmp_path / "oncall.db", catalog, rules)
    try:
        yield World(make_repo(tmp_path / "payments-api"), tmp_path / "oncall.db", store, rules)
    finally:
        store.close()


@pytest.fixture
def started(world: World) -> World:
    """The session has started in the checkout and its first push is approved."""
    first = world.hook(world.event("SessionStart", source="startup"))
    assert (first.returncode, first.stderr) == (0, "")
    assert "### Being assessed by the on-call engineer" in first.stdout, "told while pending"
    assert world.approve_pending(), "registering in the repo should target the session"
    return world


# --- registration ---------------------------------------------------------------------------


def test_session_start_registers_the_session_with_repo_slug_and_branch(world: World) -> None:
    run = world.hook(world.event("SessionStart", source="startup"))

    assert (run.returncode, run.stderr) == (0, "")
    assert "INC-1: payment-processor (critical, triggered)" in run.stdout
    assert "Guidance from the on-call engineer" not in run.stdout, "nothing approved yet"
    session = world.session()
    assert session["agent"] == "claude-code"
    assert session["repo"] == "acme-payments/payments-api"
    assert session["branch"] == BRANCH
    assert Path(session["cwd"]) == world.repo
    # The repo alone puts it in the blast radius: a push waits for the engineer.
    assert world.rows("SELECT session_id, state FROM pushes") == [(SESSION, "pending")]


def test_outside_git_the_session_registers_without_repo(world: World, tmp_path: Path) -> None:
    plain = tmp_path / "scratch"
    plain.mkdir()
    run = run_hook(
        world.db, hook_event("SessionStart", "plain-1", plain, source="startup"), cwd=plain
    )

    assert (run.returncode, run.stdout) == (0, "")
    (row,) = world.rows("SELECT data FROM sessions WHERE id = 'plain-1'")
    assert (json.loads(row[0])["repo"], json.loads(row[0])["branch"]) == (None, None)


# --- context delivery -----------------------------------------------------------------------


def test_an_approved_push_is_printed_at_the_next_prompt_and_only_once(started: World) -> None:
    first = started.hook(started.event("UserPromptSubmit", prompt="speed up the retry loop"))

    assert first.returncode == 0 and first.stderr == ""
    assert first.stdout.startswith(f"# Production update for session {SESSION}")
    assert "INC-1" in first.stdout and "payment-processor" in first.stdout
    assert "Being assessed" not in first.stdout, "the guidance replaces the notice"
    delivered = started.rows("SELECT actor, body FROM journal WHERE kind = 'context.delivered'")
    assert len(delivered) == 2, "the notice at session start, then the guidance"
    actor, body = delivered[-1][0], json.loads(delivered[-1][1])
    assert (actor, body["channel"], body["session_id"]) == (f"agent:{SESSION}", "hook", SESSION)
    assert body["push_ids"] == ["P-1"]
    assert started.rows("SELECT state FROM pushes WHERE id = 'P-1'") == [("delivered",)]

    again = started.hook(started.event("UserPromptSubmit", prompt="and the tests"))
    assert (again.returncode, again.stdout) == (0, "")
    assert len(started.rows("SELECT 1 FROM journal WHERE kind = 'context.delivered'")) == 2


def test_session_start_prints_the_full_context_of_a_concerned_session(started: World) -> None:
    started.hook(started.event("UserPromptSubmit", prompt="hello"))  # delivered once already

    resumed = started.hook(started.event("SessionStart", source="compact"))

    assert resumed.stdout.startswith(f"# Production context for session {SESSION}")
    assert "INC-1" in resumed.stdout
    assert "UNTRUSTED-" in resumed.stdout  # sender text stays fenced


def test_a_resumed_session_hears_the_open_incident_and_the_stand_down(started: World) -> None:
    body = sample("grafana/firing.json").read_bytes()
    result = Ingestor(started.store, Settings(db=started.db)).ingest(
        "grafana", body, {}, verify="none"
    )
    assert result.incidents == ["INC-2"]  # payments-api, the checkout's other service
    started.approve_pending()
    started.hook(started.event("UserPromptSubmit", prompt="hello"))
    change_incident_state(
        started.store, "INC-1", IncidentState.RESOLVED, "user:alice", started.rules
    )
    assert not started.approve_pending(), "the stand-down needs no engineer"

    resumed = started.hook(started.event("SessionStart", source="resume"))

    assert "## INC-2" in resumed.stdout and "## INC-1" not in resumed.stdout
    assert "INC-1 is resolved, but INC-2 still concerns this session" in resumed.stdout
    assert "normal work may resume" not in resumed.stdout, "INC-2 still holds"
    assert started.hook(started.event("UserPromptSubmit", prompt="again")).stdout == ""


def test_a_stand_down_after_resolve_is_printed_once(started: World) -> None:
    started.hook(started.event("UserPromptSubmit", prompt="hello"))
    change_incident_state(
        started.store, "INC-1", IncidentState.RESOLVED, "user:alice", started.rules
    )
    downs = started.rows("SELECT state FROM pushes WHERE kind = 'stand-down'")
    assert downs == [("approved",)], "resolving stands down without an engineer"

    told = started.hook(started.event("UserPromptSubmit", prompt="next"))
    again = started.hook(started.event("UserPromptSubmit", prompt="next again"))

    assert "INC-1 is resolved: stand down, normal work may resume." in told.stdout
    assert again.stdout == ""


def test_no_stand_down_for_an_incident_the_agent_never_heard_of(world: World) -> None:
    """Registered without the hook (so told nothing), approved, resolved before the agent's
    first prompt: its first message must not be a stand-down for an incident it never heard
    of, and the next prompts take the fast path (nothing new)."""
    register(
        world.store,
        world.rules,
        SESSION,
        agent=AgentKind.CLAUDE_CODE,
        repo="acme-payments/payments-api",
        cwd=str(world.repo),
        paths=[],
    )
    assert world.approve_pending()
    change_incident_state(world.store, "INC-1", IncidentState.RESOLVED, "user:alice", world.rules)
    assert world.rows("SELECT state FROM pushes WHERE kind = 'stand-down'") == [("approved",)]

    first = world.hook(world.event("UserPromptSubmit", prompt="hello"))

    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    assert not world.rows("SELECT 1 FROM journal WHERE kind = 'context.delivered'")


# --- edits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["Edit", "Write", "MultiEdit"])
def test_editing_a_file_of_the_degraded_service_asks_first(started: World, tool: str) -> None:
    run = started.hook(started.edit("services/processor/retry.py", tool))

    assert run.returncode == 0 and run.stderr == ""
    decision = run.decision
    assert decision["hookEventName"] == "PreToolUse"
    assert decision["permissionDecision"] == "ask"
    reason = decision["permissionDecisionReason"]
    assert reason.startswith("INC-1 (critical, triggered): services/processor/retry.py belongs")
    assert "payment-processor" in reason and "circuit breakers" in reason
    assert "services/processor/retry.py" in started.session()["paths"]


def test_a_notebook_of_the_service_is_guarded_too(started: World) -> None:
    run = started.hook(started.edit("services/processor/analysis.ipynb", "NotebookEdit"))

    assert run.decision["permissionDecision"] == "ask"


def test_editing_a_dependent_service_names_what_it_depends_on(started: World) -> None:
    run = started.hook(started.edit("services/payments/client.py"))

    reason = run.decision["permissionDecisionReason"]
    assert "belongs to payments-api, which depends on payment-processor (degraded)" in reason


def test_the_engineers_edited_guidance_is_the_advice(started: World) -> None:
    started.hook(started.edit("services/processor/retry.py"))  # recorded, answer cached
    edit(started.store, "P-1", "user:alice", "Hands off retry.py: the 2 s timeout is the breaker.")
    started.approve_pending()

    reason = started.hook(started.edit("services/processor/retry.py")).decision[
        "permissionDecisionReason"
    ]

    assert reason.endswith("Hands off retry.py: the 2 s timeout is the breaker.")


def test_once_resolved_the_file_is_free_again(started: World) -> None:
    assert started.hook(started.edit("services/processor/retry.py")).stdout  # asks, cached
    change_incident_state(
        started.store, "INC-1", IncidentState.RESOLVED, "user:alice", started.rules
    )

    run = started.hook(started.edit("services/processor/retry.py"))

    assert (run.returncode, run.stdout) == (0, "")


def test_an_unrelated_file_is_not_questioned(started: World) -> None:
    run = started.hook(started.edit("docs/notes.md"))

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert "docs/notes.md" in started.session()["paths"]


def test_a_burst_of_edits_to_a_known_file_asks_each_time_and_writes_nothing(started: World) -> None:
    started.hook(started.edit("services/processor/retry.py"))
    seq = started.max_seq()

    runs = [started.hook(started.edit("services/processor/retry.py")) for _ in range(3)]

    assert [r.decision["permissionDecision"] for r in runs] == ["ask"] * 3
    assert started.max_seq() == seq  # coalesced heartbeat: the journal did not grow


def test_files_outside_the_checkout_are_ignored(started: World, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "services" / "processor" / "retry.py"
    payload = started.edit("x.py")
    payload["tool_input"]["file_path"] = str(outside)

    run = started.hook(payload)

    assert run.stdout == ""
    assert all("elsewhere" not in p for p in started.session()["paths"])


# --- never break the agent ------------------------------------------------------------------

LOCK_HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
if sys.argv[2] == "locking_mode":  # holds the lock past its commit, and shuts readers out too
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO meta (key, value) VALUES ('held-by-another-process', 'x')")
    conn.execute("COMMIT")
else:
    conn.execute("BEGIN " + sys.argv[2])
    conn.execute("INSERT INTO meta (key, value) VALUES ('held-by-another-process', 'x')")
print("locked", flush=True)
sys.stdin.read()
if conn.in_transaction:
    conn.execute("ROLLBACK")
"""
RUNS_UNDER_LOCK = 10
ANSWER_BOUND_S = 1.0
"""What the agent may wait for a hook while another process holds the lock (a bound, not a
benchmark: the answer itself takes about half of it)."""
LOCK_MARGIN_S = 0.5
"""On a loaded machine starting the process alone may take most of the bound; the lock may then
cost no more than this beyond it (before the fix it cost the whole busy timeout, 5 s)."""
BUSY_TIMEOUT_S = BUSY_TIMEOUT_MS / 1000
"""What a call waiting for the lock would have taken: none may come near it."""
SLOW_PATH_IMPORTS = (
    "import oncall_tui.actions, oncall_tui.config, oncall_tui.store.journal,"
    " oncall_tui.core.context.render"
)
"""What a hook that writes loads: the same process start, measured beside the hook."""


def slow_path_start_s() -> float:
    """How long starting a hook's slow path takes here and now, without any lock."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", SLOW_PATH_IMPORTS], check=True, timeout=HOOK_TIMEOUT_S)
    return time.perf_counter() - began


@contextmanager
def write_lock_held(db: Path, mode: str) -> Iterator[None]:
    """Another process holds the DB's write lock (``BEGIN IMMEDIATE`` or ``EXCLUSIVE``)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(db), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.close()
        holder.wait(HOOK_TIMEOUT_S)
        holder.stdout.close()


@pytest.mark.parametrize("mode", ["IMMEDIATE", "EXCLUSIVE"])
def test_a_held_write_lock_delays_no_answer_and_loses_none(started: World, mode: str) -> None:
    started.hook(started.event("UserPromptSubmit", prompt="hello"))  # P-1 delivered
    edit(started.store, "P-1", "user:alice", "Hands off retry.py: the 2 s timeout is the breaker.")
    assert started.approve_pending() == ["P-2"]  # news the session has not heard yet
    git(started.repo, "checkout", "-q", "-b", "fix/elsewhere")  # so every call wants to write
    seq = started.max_seq()
    events = {
        SESSION_START: started.event(SESSION_START, source="resume"),
        USER_PROMPT_SUBMIT: started.event(USER_PROMPT_SUBMIT, prompt="go on"),
        PRE_TOOL_USE: started.edit("services/processor/retry.py"),
    }
    runs: dict[str, list[tuple[float, HookRun]]] = {name: [] for name in events}

    starts: list[float] = []
    with write_lock_held(started.db, mode):
        for _ in range(RUNS_UNDER_LOCK):
            starts.append(slow_path_start_s())
            for name, payload in events.items():
                began = time.perf_counter()
                run = started.hook(payload)
                runs[name].append((time.perf_counter() - began, run))

    # A wait on the lock would slow every call; a spike of the machine's load slows one.
    typical = {name: statistics.median(s for s, _ in timed) for name, timed in runs.items()}
    slowest = {name: max(seconds for seconds, _ in timed) for name, timed in runs.items()}
    bound = max(ANSWER_BOUND_S, statistics.median(starts) + LOCK_MARGIN_S)
    assert all(seconds <= bound for seconds in typical.values()), (typical, starts)
    assert all(seconds < BUSY_TIMEOUT_S for seconds in slowest.values()), slowest
    assert all((r.returncode, r.stderr) == (0, "") for timed in runs.values() for _, r in timed)
    for _, run in runs[SESSION_START]:
        assert run.stdout.startswith(f"# Production context for session {SESSION}")
        assert "## INC-1" in run.stdout and "Hands off retry.py" in run.stdout
    for _, run in runs[USER_PROMPT_SUBMIT]:
        assert run.stdout.startswith(f"# Production update for session {SESSION}")
        assert "Hands off retry.py" in run.stdout
    for _, run in runs[PRE_TOOL_USE]:
        assert run.decision["permissionDecision"] == "ask"
        assert run.decision["permissionDecisionReason"].startswith("INC-1 (critical, triggered)")
    assert started.max_seq() == seq, "nothing could be written under the lock"

    # Once the lock is gone the next call makes the writes that were dropped.
    after = started.hook(started.event(USER_PROMPT_SUBMIT, prompt="and now"))
    assert "Hands off retry.py" in after.stdout, "said again: it was never recorded as heard"
    assert started.rows("SELECT state FROM pushes WHERE id = 'P-2'") == [("delivered",)]
    assert started.session()["branch"] == "fix/elsewhere"


def test_when_even_reads_are_shut_out_the_hook_says_nothing_at_once(started: World) -> None:
    events = [
        started.event(SESSION_START, source="resume"),
        started.event(USER_PROMPT_SUBMIT, prompt="go on"),
        started.edit("services/processor/retry.py"),
    ]
    started.store.close()  # exclusive locking mode needs the file to itself to begin with
    with write_lock_held(started.db, "locking_mode"):
        for payload in events * 3:
            began = time.perf_counter()
            run = started.hook(payload)
            seconds = time.perf_counter() - began
            assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
            assert seconds <= ANSWER_BOUND_S, (payload["hook_event_name"], seconds)


def empty_file(directory: Path) -> Path:
    db = directory / "empty.db"
    db.touch()  # what ``touch`` and ``mktemp`` leave, and a ``--db`` typo
    return db


def another_programs_db(directory: Path) -> Path:
    db = directory / "theirs.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
    return db


@pytest.mark.parametrize("make", [empty_file, another_programs_db])
@pytest.mark.parametrize("event", [SESSION_START, USER_PROMPT_SUBMIT])
def test_the_hook_never_makes_a_db_of_a_file_that_is_not_one(
    world: World, tmp_path: Path, make: Callable[[Path], Path], event: str
) -> None:
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    db = make(directory)
    before = (db.read_bytes(), sorted(p.name for p in directory.iterdir()))

    run = run_hook(db, world.event(event, source="startup", prompt="hi"), cwd=world.repo)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert (db.read_bytes(), sorted(p.name for p in directory.iterdir())) == before


def newer_schema(db: Path) -> Path:
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    return db


FAILURES: list[tuple[str, Callable[[World], tuple[Path, str]]]] = [
    ("garbage stdin", lambda w: (w.db, "this is not json {")),
    ("not an object", lambda w: (w.db, "[1, 2]")),
    ("unknown event", lambda w: (w.db, json.dumps(w.event("Stop")))),
    (
        "invalid session id",
        lambda w: (w.db, json.dumps(hook_event("SessionStart", "../x", w.repo))),
    ),
    (
        "missing DB directory",
        lambda w: (w.repo.parent / "absent" / "oncall.db", json.dumps(w.event("SessionStart"))),
    ),
    ("DB from a newer schema", lambda w: (newer_schema(w.db), json.dumps(w.event("SessionStart")))),
]


@pytest.mark.parametrize("make", [f for _, f in FAILURES], ids=[n for n, _ in FAILURES])
def test_every_failure_prints_nothing_and_exits_0(
    world: World, make: Callable[[World], tuple[Path, str]]
) -> None:
    db, stdin = make(world)
    seq = world.max_seq()

    run = run_hook(db, stdin, cwd=world.repo)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert not (world.repo.parent / "absent").exists()
    assert world.rows("SELECT count(*) FROM sessions") == [(0,)]
    assert world.max_seq() == seq


def test_with_debug_on_an_internal_error_goes_to_stderr_only(world: World) -> None:
    payload = hook_event("UserPromptSubmit", "bad..id", world.repo, prompt="hi")

    run = world.hook(payload, env={"ONCALL_TUI_DEBUG": "1"})

    assert (run.returncode, run.stdout) == (0, "")
    assert "InvalidIdError" in run.stderr


# --- where the hook looks -------------------------------------------------------------------


def test_branch_of_a_new_a_detached_and_no_checkout(tmp_path: Path) -> None:
    unborn = tmp_path / "unborn"
    unborn.mkdir()
    git(unborn, "init", "-q", "-b", "first")
    committed = make_repo(tmp_path / "committed")
    (committed / "sub").mkdir()
    assert repo_info(str(unborn)) == RepoInfo(unborn.resolve(), "first")
    assert repo_info(str(committed / "sub")) == RepoInfo(committed.resolve(), BRANCH)
    git(committed, "checkout", "-q", "--detach")
    assert repo_info(str(committed)) == RepoInfo(committed.resolve(), None)
    assert repo_info(str(tmp_path)) == RepoInfo(None, None)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("git@github.com:acme-payments/payments-api.git", "acme-payments/payments-api"),
        ("https://github.com/acme/checkout", "acme/checkout"),
        ("https://ci:s3cret@gitlab.example.com/group/sub/search.git/", "sub/search"),
        ("ssh://git@git.example.com:2222/acme/ledger.git", "acme/ledger"),
        ("/srv/git/ledger.git", None),
        ("file:///srv/git/ledger.git", None),
    ],
)
def test_repo_slug_from_remote_urls(url: str, slug: str | None) -> None:
    assert slug_from_url(url) == slug


@pytest.mark.parametrize(
    "argv",
    [[], ["hook"], ["--db", "x.db", "incidents"], ["--serve", "hook", "claude-code"], ["--db"]],
)
def test_any_other_command_line_goes_to_the_cli(argv: list[str]) -> None:
    assert dispatch(argv) is False


def test_the_hooks_db_path_agrees_with_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = tmp_path / "config.toml"
    assert resolve_db(None, None) == load_settings().db
    config.write_text(f'db = "{tmp_path / "from-file.db"}"\n')
    assert resolve_db(None, str(config)) == load_settings(config).db == tmp_path / "from-file.db"
    monkeypatch.setenv("ONCALL_TUI_CONFIG", str(config))
    assert resolve_db(None, None) == load_settings().db
    monkeypatch.setenv("ONCALL_TUI_DB", str(tmp_path / "from-env.db"))
    assert resolve_db(None, None) == load_settings().db == tmp_path / "from-env.db"
    assert resolve_db("cli.db", None) == load_settings(db=Path("cli.db")).db
