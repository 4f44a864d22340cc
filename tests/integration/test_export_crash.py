"""SIGKILL the exporter at random moments: readers must only ever see complete files.

A forked child (no interpreter start-up per kill, so many kills fit in a few seconds) keeps
changing the state through the real actions (edit + approve each session's push) and syncing.
Before each sync it logs the digest of every file the sync will write. After each kill, every
file on disk must be one of the logged versions (complete old or complete new, nothing in
between), parse, and pass the renderer's own check; temp files may be left, but only under
names no reader opens, and the next sync removes them.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import re
import signal
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from itertools import count
from pathlib import Path

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions import pushes as push_actions
from oncall_tui.agents.export.atomic import is_temp_name, write_atomic
from oncall_tui.agents.export.index import render_index
from oncall_tui.agents.export.sync import CONTEXT_JSON, CONTEXT_MD, INDEX_MD, context_files, sync
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.context import render
from oncall_tui.core.context.schema import ContextDocument
from oncall_tui.store.context import build_session_context
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.queries import list_incidents
from tests.integration.conftest import STORY_TIME
from tests.integration.faults_common import approve_sample_incident, live_push_id

SESSION_IDS = [f"agent-{n}" for n in range(4)]
FORK = multiprocessing.get_context("fork")
LOG_LINE = re.compile(r"([0-9a-f]{64}) (/.+)")


def _open(settings: Settings) -> tuple[Store, Rules]:
    return Store.open(settings.db, FixedClock(STORY_TIME)), Rules.from_settings(settings)


def _build(tmp_path: Path) -> Settings:
    settings = Settings(db=tmp_path / "crash.db", export={"dir": tmp_path / "export"})
    store, rules = _open(settings)
    with closing(store.conn):
        approve_sample_incident(store, settings, rules, SESSION_IDS)
    return settings


def _expected(store: Store, settings: Settings) -> dict[Path, str]:
    """Digest of every file a sync of the current state writes."""
    root = settings.export.dir.resolve()
    key = fence_key(store)
    contexts = [build_session_context(store.conn, sid) for sid in SESSION_IDS]
    files: dict[Path, bytes] = {}
    for ctx in contexts:
        assert ctx is not None
        markdown, document = context_files(ctx, key, {})
        files[root / "sessions" / ctx.session.id / CONTEXT_MD] = markdown
        files[root / "sessions" / ctx.session.id / CONTEXT_JSON] = document
    files[root / INDEX_MD] = render_index(list_incidents(store.conn), [c for c in contexts if c])
    return {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}


def _log(log: Path, digests: dict[Path, str]) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, "".join(f"{d} {p}\n" for p, d in digests.items()).encode())
    finally:
        os.close(fd)


def _writer(settings: Settings, log: Path, first_revision: int) -> None:
    """The child: change every session's guidance, log what the sync will write, sync; repeat."""
    store, rules = _open(settings)
    for revision in count(first_revision):
        for session_id in SESSION_IDS:
            live = live_push_id(store, session_id)
            text = f"Revision {revision} for {session_id}: keep the 2 s timeout in place."
            edited = push_actions.edit(store, live, "alice", text)
            push_actions.approve(store, edited.id, "alice", rules)
        _log(log, _expected(store, settings))
        sync(store, settings)


def _logged(log: Path) -> dict[str, set[str]]:
    versions: dict[str, set[str]] = defaultdict(set)
    for line in log.read_text().split("\n")[:-1]:  # the last line may be cut short by the kill
        match = LOG_LINE.fullmatch(line)
        if match:
            versions[match.group(2)].add(match.group(1))
    return versions


def _check_files(settings: Settings, log: Path) -> int:
    """Every file is a complete logged version; returns how many temp files were left."""
    versions = _logged(log)
    root = settings.export.dir.resolve()
    index = root / INDEX_MD
    assert hashlib.sha256(index.read_bytes()).hexdigest() in versions[str(index)]
    strays = 0
    for session_id in SESSION_IDS:
        folder = root / "sessions" / session_id
        for path in sorted(folder.iterdir()):
            if is_temp_name(path.name):
                strays += 1  # hidden and *.tmp: no reader looks for it
                continue
            assert path.name in (CONTEXT_MD, CONTEXT_JSON), path
            data = path.read_bytes()
            assert hashlib.sha256(data).hexdigest() in versions[str(path)], f"torn {path}"
            if path.name == CONTEXT_MD:
                assert render.parse_markdown_check(data.decode()) == []
            else:
                ContextDocument.model_validate_json(data)
    with closing(sqlite3.connect(settings.db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return strays


def _kill_after(target: Callable[..., object], args: tuple[object, ...], delay: float) -> None:
    child = FORK.Process(target=target, args=args, daemon=True)
    child.start()
    time.sleep(delay)
    assert child.pid is not None and child.is_alive(), "the writer died on its own"
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    assert child.exitcode == -signal.SIGKILL


@pytest.mark.parametrize("kills", [20, pytest.param(120, marks=pytest.mark.slow)])
def test_sigkilled_exports_leave_only_complete_files(tmp_path: Path, kills: int) -> None:
    settings = _build(tmp_path)
    log = tmp_path / "versions.log"
    store, _ = _open(settings)
    _log(log, _expected(store, settings))
    sync(store, settings)
    store.close()  # no connection of ours crosses the fork
    rng = random.Random(kills)
    strays = 0
    for kill in range(kills):
        _kill_after(_writer, (settings, log, kill * 10_000), rng.uniform(0.15, 0.5))
        strays += _check_files(settings, log)
    syncs = sum(1 for line in log.read_text().split("\n") if line.endswith(INDEX_MD))
    # Progress between kills (a loaded machine may lose a few kills to process start-up).
    assert syncs >= kills // 2, "the writer made progress between kills"

    # A stray as a killed writer leaves it (partial content, temp name), plus any real ones.
    planted = settings.export.dir / "sessions" / SESSION_IDS[0] / ".CONTEXT.md.x7kq2.tmp"
    planted.write_bytes(b"# Production context for sess")
    store, _ = _open(settings)
    with closing(store.conn):
        report = sync(store, settings)
        assert not report.failed
        leftovers = [p for p in settings.export.dir.rglob("*") if is_temp_name(p.name)]
        assert leftovers == [], f"{strays} stray(s) seen during the run; sync left {leftovers}"
        assert sync(store, settings, check_only=True).differing == []


def _rewrite_forever(path: Path) -> None:
    for n in count():
        write_atomic(path, bytes([n % 251]) * 2_000_000)


def test_a_write_killed_midway_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    """The atomic write alone, with files large enough for most kills to land mid-write."""
    path = tmp_path / CONTEXT_MD
    rng = random.Random(7)
    for _ in range(10):
        _kill_after(_rewrite_forever, (path,), rng.uniform(0.02, 0.1))
        data = path.read_bytes()
        assert len(data) == 2_000_000 and data == data[:1] * len(data), "torn write"
        for other in tmp_path.iterdir():
            assert other == path or is_temp_name(other.name), other
