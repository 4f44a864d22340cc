"""A full disk (real ENOSPC on a small tmpfs): 503 so senders retry, old context files intact.

A 202 tells the sender it need not retry, so on a full disk the receiver must answer 503 (with
Retry-After), never 2xx for a delivery it could not store and never 500; once space returns the
next delivery, and the senders' retries, must be taken. The exporter writes every file through a
temp file and a rename, so a write that hits ENOSPC leaves the old, complete file in place.

SQLite's own SQLITE_FULL (``PRAGMA max_page_count``) is no substitute: it is a limit the
receiver's connection would never have, and it never reaches the OS's ENOSPC paths (WAL growth,
the temp file of an export). So these tests mount a real tmpfs and skip where that is not
possible (not root, or no mount permission in the container).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions import pushes as push_actions
from oncall_tui.agents.export.atomic import is_temp_name
from oncall_tui.agents.export.sync import CONTEXT_JSON, CONTEXT_MD, INDEX_MD, sync
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.context import render
from oncall_tui.core.context.schema import ContextDocument
from oncall_tui.server.runner import ReceiverThread
from oncall_tui.store.journal import Store
from tests.integration.conftest import STORY_TIME, Endpoint
from tests.integration.faults_common import (
    acknowledged_id,
    all_folded,
    approve_sample_incident,
    integrity,
    live_push_id,
    pagerduty_event,
    pagerduty_key,
    read_db,
    unstored,
    wait_for,
)
from tests.support.receiver_http import Reply

TMPFS_BYTES = 8 * 1024 * 1024
HEADROOM = 64 * 1024
"""Space left after filling: a delivery or two fit, then the WAL cannot grow."""
SESSION_IDS = ["agent-0", "agent-1"]


def _umount(mountpoint: Path) -> None:
    done = subprocess.run(["umount", str(mountpoint)], capture_output=True, timeout=30)
    if done.returncode != 0:  # something still holds a file open: detach it anyway
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=30)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A freshly mounted tmpfs of TMPFS_BYTES, unmounted afterwards even if the test failed."""
    if os.geteuid() != 0:
        pytest.skip("a real ENOSPC needs a small tmpfs, and mounting one needs root")
    mountpoint = tmp_path / "tmpfs"
    mountpoint.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES},mode=0700", "tmpfs", mountpoint],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot run mount here: {exc}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mountpoint
    finally:
        _umount(mountpoint)


def fill(mountpoint: Path, *, leave: int) -> Path:
    """Fill the file system with a filler file, then give back ``leave`` bytes of it."""
    filler = mountpoint / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12):
            block = bytes(size)
            while True:
                try:
                    os.write(fd, block)  # a short write near the end is fine: the next one fails
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, filler.stat().st_size - leave)
    stat = os.statvfs(mountpoint)
    assert stat.f_bavail * stat.f_frsize <= leave + stat.f_frsize, "the filler did not fill it"
    return filler


# --- the receiver ----------------------------------------------------------------------------


@pytest.fixture
def receiver_on_tmpfs(small_tmpfs: Path) -> Iterator[Callable[[], Endpoint]]:
    """A receiver whose DB lives on the tmpfs; stopped before the tmpfs is unmounted."""
    threads: list[ReceiverThread] = []

    def start() -> Endpoint:
        settings = Settings(db=small_tmpfs / "oncall.db", server={"host": "127.0.0.1", "port": 0})
        thread = ReceiverThread(settings, FixedClock(STORY_TIME))
        port = thread.start()
        threads.append(thread)
        return Endpoint(port, settings.db)

    yield start
    for thread in threads:
        thread.stop()


def test_a_full_disk_is_503_never_a_false_202_and_recovers(
    receiver_on_tmpfs: Callable[[], Endpoint], small_tmpfs: Path
) -> None:
    endpoint = receiver_on_tmpfs()
    acked: dict[int, str] = {}

    def send(webhook_id: str) -> Reply:
        body = pagerduty_event(webhook_id)
        reply = endpoint.post("pagerduty", body, {"X-Webhook-Id": webhook_id})
        if reply.status == 202:
            acked[acknowledged_id(reply)] = pagerduty_key(webhook_id)
        return reply

    for n in range(3):
        assert send(f"before-{n}").status == 202
    filler = fill(small_tmpfs, leave=HEADROOM)

    answers: dict[str, Reply] = {}
    for n in range(400):  # a few hundred KB of WAL at most: far more than the headroom
        answers[f"full-{n}"] = send(f"full-{n}")
        if sum(r.status == 503 for r in answers.values()) >= 5:
            break
    refused = {wid: reply for wid, reply in answers.items() if reply.status == 503}
    statuses = sorted({reply.status for reply in answers.values()})

    assert refused, f"never out of space after {len(answers)} deliveries: {statuses}"
    assert statuses in ([503], [202, 503]), f"only 202 or 503 on a full disk, got {statuses}"
    for wid, reply in refused.items():
        assert int(reply.headers["retry-after"]) > 0, wid
        assert reply.json["delivery_id"] is None
        assert reply.json["error"].startswith("store unavailable"), reply.body
    assert unstored(endpoint.db, acked) == {}, "a 202 on a full disk for a delivery not stored"

    filler.unlink()
    after = send("after-space")
    assert after.status == 202, after.body
    for wid in refused:  # the senders retry, as the 503 asked: every one is taken now
        retry = send(wid)
        assert retry.status == 202, (wid, retry.body)
    assert unstored(endpoint.db, acked) == {}
    stored_keys = {key for (key,) in read_db(endpoint.db, "SELECT delivery_key FROM deliveries")}
    assert {pagerduty_key(wid) for wid in refused} <= stored_keys
    wait_for(
        lambda: all_folded(endpoint.db, list(acked)),
        what="deliveries received while the disk was full are folded once space returns",
    )
    wait_for(
        lambda: read_db(
            endpoint.db, "SELECT id FROM incidents WHERE service = 'payment-processor'"
        ),
        what="the PagerDuty incident appears",
    )
    assert integrity(endpoint.db) == [("ok",)]


# --- the exporter ----------------------------------------------------------------------------


def _state(tmp_path: Path, export_dir: Path) -> tuple[Settings, Store, Rules]:
    """Two sessions under an approved push of the Alertmanager incident (DB off the tmpfs)."""
    settings = Settings(db=tmp_path / "export.db", export={"dir": export_dir})
    store = Store.open(settings.db, FixedClock(STORY_TIME))
    rules = Rules.from_settings(settings)
    approve_sample_incident(store, settings, rules, SESSION_IDS)
    return settings, store, rules


def _revise(store: Store, rules: Rules, text: str) -> None:
    """New guidance for every session: each one's files must be rewritten."""
    for session_id in SESSION_IDS:
        live = live_push_id(store, session_id)
        edited = push_actions.edit(store, live, "alice", f"{text} ({session_id})")
        push_actions.approve(store, edited.id, "alice", rules)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".lock"
    }


def _check_whole(files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert not is_temp_name(Path(name).name), f"temp file left: {name}"
        if name.endswith(CONTEXT_MD):
            assert render.parse_markdown_check(data.decode()) == [], name
        elif name.endswith(CONTEXT_JSON):
            ContextDocument.model_validate_json(data)
        elif name == INDEX_MD:
            assert data.startswith(b"# Production context (oncall-tui)\n") and data.endswith(b"\n")


def test_export_to_a_full_disk_keeps_the_old_files_whole(small_tmpfs: Path, tmp_path: Path) -> None:
    settings, store, rules = _state(tmp_path, small_tmpfs / "context")
    root = settings.export.dir.resolve()
    try:
        assert not sync(store, settings).failed
        before = _files(root)
        assert {f"sessions/{sid}/{CONTEXT_MD}" for sid in SESSION_IDS} <= set(before)
        _check_whole(before)

        _revise(store, rules, "Keep the 2 s timeout; do not retry card captures")
        filler = fill(small_tmpfs, leave=0)
        full = sync(store, settings)
        during = _files(root)

        filler.unlink()
        recovered = sync(store, settings)
        after = _files(root)
        drift = sync(store, settings, check_only=True).differing
        journaled = [
            json.loads(body)
            for (body,) in store.conn.execute(
                "SELECT body FROM journal WHERE kind = 'export.failed'"
            )
        ]
    finally:
        store.close()

    failed = {f.file: f.problems for f in full.failed}
    for session_id in SESSION_IDS:
        path = str(root / "sessions" / session_id / CONTEXT_MD)
        assert path in failed, f"no failure reported for {path}: {sorted(failed)}"
        assert any("No space left on device" in p for p in failed[path]), failed[path]
    assert during == before, "a write that hit ENOSPC changed (or truncated) a live file"
    assert any("No space left on device" in str(entry["problems"]) for entry in journaled), (
        "the dashboard learns of the failure from the journal"
    )

    assert not recovered.failed, recovered.failed
    assert drift == []
    _check_whole(after)
    for session_id in SESSION_IDS:
        name = f"sessions/{session_id}/{CONTEXT_MD}"
        assert after[name] != before[name]
        assert b"do not retry card captures" in after[name]
