"""``serve`` alone keeps the agents' files current, and one exporter per DB writes them.

Nothing is mocked: ``oncall-tui serve`` runs as a process of its own, the session comes from the
real Claude Code hook in a git checkout, the alert is posted over HTTP, and the engineer approves
with the real CLI. The dashboard's exporter is the same :class:`ExportLoop` the dashboard starts
(``tui/background.py``), run here in the test process beside ``serve``; ``serve`` runs it in a
child process (:mod:`oncall_tui.agents.export.process`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.pushes import approve
from oncall_tui.agents.export.loop import ExportLoop
from oncall_tui.config import Settings
from oncall_tui.core.clock import SystemClock
from oncall_tui.core.context.render import NO_INCIDENTS
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store
from oncall_tui.store.lease import LEASE_TTL_S, Lease, LeaseHolder, live_holder
from tests.integration.conftest import ServeFactory, ServeProcess
from tests.integration.test_hook import CATALOG, SESSION, hook_event, make_repo, run_hook
from tests.support.samples import sample

WAIT_S = 10.0
ASSESSING = "### Being assessed by the on-call engineer"
GUIDANCE = "### Guidance from the on-call engineer"


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def cli(db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(db), *args],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return done.stdout.decode()


def start_serving(
    serve_process: ServeFactory, tmp_path: Path, db: DbLocation | None = None
) -> tuple[ServeProcess, DbLocation, Path]:
    """``serve`` on a DB with the catalog (``db``, by default a SQLite file of the test's),
    exporting to a directory of the test's; the session registered by the hook in its checkout.
    Returns the server, its DB and the session's file."""
    db, out = db or tmp_path / "oncall.db", tmp_path / "context"
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    store = Store.open(db, SystemClock())
    try:
        load_catalog_file(store, Rules(), catalog, "user:alice")
    finally:
        store.close()
    server = serve_process(db, env_extra={"ONCALL_TUI_EXPORT__DIR": str(out)})
    repo = make_repo(tmp_path / "payments-api")
    started = run_hook(db, hook_event("SessionStart", SESSION, repo, source="startup"), cwd=repo)
    assert (started.returncode, started.stderr) == (0, "")
    return server, db, out / "sessions" / SESSION / "CONTEXT.md"


def post(server: ServeProcess, relative: str) -> None:
    reply = server.endpoint.post("alertmanager", sample(relative).read_bytes())
    assert reply.status == 202, reply.body
    server.endpoint.folded()


def test_serve_alone_writes_the_context_files_through_an_incident(
    serve_process: ServeFactory, tmp_path: Path
) -> None:
    """The whole story with only ``serve`` running: the notice while the engineer assesses,
    the guidance within a second of the approval, the stand-down with nobody approving it,
    and a clean file at the end, the same in the file and at the agent's prompt."""
    server, db, context_md = start_serving(serve_process, tmp_path)
    wait_for(context_md.exists, "the session's CONTEXT.md")
    repo = tmp_path / "payments-api"

    def prompt(text: str) -> str:
        run = run_hook(db, hook_event("UserPromptSubmit", SESSION, repo, prompt=text), cwd=repo)
        assert (run.returncode, run.stderr) == (0, "")
        return run.stdout

    post(server, "alertmanager/firing.json")
    wait_for(lambda: ASSESSING in context_md.read_text(), "the notice in the file")
    heard = prompt("continue")
    assert ASSESSING in heard and "INC-1: payment-processor (critical, triggered)" in heard
    assert GUIDANCE not in heard and "UNTRUSTED" not in heard, "our words only, no sender text"

    store = Store.open(db, SystemClock())
    try:
        approve(store, "P-1", "user:alice", Rules())
    finally:
        store.close()
    wait_for(lambda: GUIDANCE in context_md.read_text(), "the approved guidance", timeout_s=1.0)
    assert ASSESSING not in context_md.read_text(), "the guidance replaces the notice"
    told = prompt("and now?")
    assert GUIDANCE in told and ASSESSING not in told

    post(server, "scenario/alertmanager_resolved_all.json")
    said = prompt("status?")
    assert "INC-1 is resolved: stand down, normal work may resume." in said
    assert cli(db, "pushes", "--state", "pending").strip() == "no pushes in state pending"
    # Said at the prompt, the stand-down leaves the file too: nothing is left but the all-clear.
    wait_for(lambda: "INC-1" not in context_md.read_text(), "the file to stand down")
    final = context_md.read_text()
    assert NO_INCIDENTS in final and "critical" not in final and "triggered" not in final


def test_one_exporter_per_db_and_a_takeover_when_it_dies(
    serve_process: ServeFactory, tmp_path: Path
) -> None:
    server, db, context_md = start_serving(serve_process, tmp_path)
    wait_for(context_md.exists, "serve's first export")
    settings = Settings(db=db, export={"dir": tmp_path / "context"})
    dashboard = ExportLoop(db, settings, clock=SystemClock(), program="dashboard")
    dashboard.start()
    try:
        time.sleep(1.5)  # more than one renewal: the dashboard has asked and been refused
        store = Store.open(db, SystemClock())
        try:
            holder = live_holder(store.conn, "export")
        finally:
            store.close()
        assert holder is not None and holder.program == "serve", holder
        assert not dashboard.exporting

        server.kill()
        wait_for(lambda: dashboard.exporting, "the takeover", timeout_s=LEASE_TTL_S + 5)

        # What the dead server can no longer write, the dashboard's exporter now does.
        store = Store.open(db, SystemClock())
        try:
            from oncall_tui.ingest.record import Ingestor

            body = sample("alertmanager/firing.json").read_bytes()
            Ingestor(store, settings).ingest("alertmanager", body, {}, verify="none")
        finally:
            store.close()
        cli(db, "approve", "P-1")
        wait_for(lambda: "payment-processor" in context_md.read_text(), "the takeover's export")
    finally:
        dashboard.stop()


def test_a_lease_is_held_by_one_renewed_by_it_and_free_once_released_or_run_out(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "lease.db", SystemClock())
    try:
        first, second = Lease("export", "serve"), Lease("export", "dashboard")
        assert first.hold(store.conn, now=100.0)
        assert not second.hold(store.conn, now=101.0)
        assert first.hold(store.conn, now=104.0)  # renewed: runs out at 104 + TTL
        assert not second.hold(store.conn, now=104.0 + LEASE_TTL_S - 0.1)
        assert second.hold(store.conn, now=104.0 + LEASE_TTL_S + 0.1)  # the first died
        assert not first.hold(store.conn, now=104.0 + LEASE_TTL_S + 0.2)
        second.release(store.conn)
        assert live_holder(store.conn, "export", now=110.0) is None
        first.release(store.conn)  # not its lease: releasing leaves nothing behind, fails nothing
        assert first.hold(store.conn, now=110.0)
    finally:
        store.close()


def export_holder(db: DbLocation) -> LeaseHolder | None:
    store = Store.open(db, SystemClock())
    try:
        return live_holder(store.conn, "export")
    finally:
        store.close()


def is_running(pid: int) -> bool:
    """A live process, not a zombie waiting for its parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_serve_exports_from_a_child_process_it_restarts_when_it_dies(
    serve_process: ServeFactory, tmp_path: Path
) -> None:
    """The export runs beside ``serve``, not in it (its syncs would hold up the hooks' answers):
    the lease is held by a process of serve's; killed, it is replaced, and the files still
    follow the journal."""
    server, db, context_md = start_serving(serve_process, tmp_path)
    wait_for(context_md.exists, "serve's first export")
    first = export_holder(db)
    assert first is not None and first.program == "serve", first
    assert first.pid != server.process.pid
    assert Path(f"/proc/{first.pid}/stat").read_text().split()[3] == str(server.process.pid)

    os.kill(first.pid, signal.SIGKILL)
    wait_for(
        lambda: (holder := export_holder(db)) is not None and holder.pid != first.pid,
        "a new exporter",
        timeout_s=LEASE_TTL_S + 5,
    )
    post(server, "alertmanager/firing.json")
    wait_for(lambda: "payment-processor" in context_md.read_text(), "the new exporter's file")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_stopped_leaves_no_exporter_and_no_lease(
    serve_process: ServeFactory, tmp_path: Path, stop_signal: int
) -> None:
    """Stopped as a service manager or Ctrl+C stops it, ``serve`` takes its exporter with it,
    and the lease is given up, not left to run out: the next exporter starts at once."""
    server, db, context_md = start_serving(serve_process, tmp_path)
    wait_for(context_md.exists, "serve's first export")
    holder = export_holder(db)
    assert holder is not None
    server.terminate(stop_signal)
    assert not is_running(holder.pid)
    assert export_holder(db) is None


def test_serve_killed_takes_its_exporter_with_it(
    serve_process: ServeFactory, tmp_path: Path
) -> None:
    """SIGKILL gives ``serve`` no chance to stop anything: the child sees its pipe close."""
    server, db, context_md = start_serving(serve_process, tmp_path)
    wait_for(context_md.exists, "serve's first export")
    holder = export_holder(db)
    assert holder is not None
    server.kill()
    wait_for(lambda: not is_running(holder.pid), "the orphaned exporter to stop")
    assert export_holder(db) is None


def test_the_exporter_runs_serves_code_whatever_the_working_directory_holds(
    tmp_path: Path,
) -> None:
    """serve started (as its installed script) from inside another checkout: the child keeps
    serve's working directory, so relative paths mean what they meant to serve, but imports
    serve's oncall_tui, not the checkout's."""
    script = Path(sys.executable).with_name("oncall-tui")
    if not script.exists():
        pytest.skip("oncall-tui is not installed beside this interpreter")
    elsewhere = tmp_path / "another-checkout"
    (elsewhere / "oncall_tui").mkdir(parents=True)
    (elsewhere / "oncall_tui" / "__init__.py").write_text("raise ImportError('not this one')\n")
    env = {**os.environ, "ONCALL_TUI_EXPORT__DIR": "context"}  # relative to the directory
    serve = subprocess.Popen(
        [str(script), "--init", "--db", str(tmp_path / "oncall.db"), "serve", "--port", "0"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for((elsewhere / "context" / "INDEX.md").exists, "the child's first export")
        assert serve.poll() is None
    finally:
        serve.terminate()
        _, stderr = serve.communicate(timeout=30)
    assert b"not this one" not in stderr, stderr.decode()


def test_on_postgresql_serves_child_exports_as_on_sqlite(
    serve_process: ServeFactory, tmp_path: Path, pg_url: Callable[[], str]
) -> None:
    """Team mode: the child opens the PostgreSQL URL it was handed, holds the lease there, and
    follows the journal by its news (LISTEN) as serve's own thread did."""
    server, url, context_md = start_serving(serve_process, tmp_path, pg_url())
    wait_for(context_md.exists, "the child's first export")
    holder = export_holder(url)
    assert holder is not None and holder.pid != server.process.pid
    post(server, "alertmanager/firing.json")
    wait_for(lambda: "payment-processor" in context_md.read_text(), "the incident in the file")


def test_an_exporter_deaf_to_its_lifeline_and_to_sigterm_is_killed() -> None:
    """Stopping serve neither hangs on nor fails for a child that will not stop."""
    from oncall_tui.agents.export.process import _stop_child

    stubborn = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('deaf', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", stubborn], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdout is not None and child.stdout.readline() == b"deaf\n"
    _stop_child(child, 0.5)
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL
