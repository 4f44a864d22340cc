"""``oncall-tui ingest`` with many deliveries: several files, NDJSON on stdin or in files.

Real files on disk, the real store, click's runner; the PagerDuty samples are signed with the
sample secret, which the configuration gets from the environment as a user's would. The samples
are Webhooks v3 deliveries shaped as PagerDuty's docs show them, with their
``X-PagerDuty-Signature: v1=<hex>`` headers beside them
(https://developer.pagerduty.com/docs/webhooks-overview and its "Verifying Signatures" page).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from oncall_tui.cli import cli
from oncall_tui.config import ExportSettings, Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.batch import (
    BATCH_SIZE,
    BatchStoppedError,
    BatchSummary,
    ingest_in_batches,
    ndjson_deliveries,
)
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.support.environment import is_machine_setting
from tests.support.samples import SAMPLE_SECRET, SAMPLES

PAGERDUTY = SAMPLES / "pagerduty"


Run = Callable[..., Result]
"""``run(*args, input=None)``: ``oncall-tui --db DB *args``, in process."""


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in [n for n in os.environ if is_machine_setting(n)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ONCALL_TUI_SOURCES__PAGERDUTY__SECRET", SAMPLE_SECRET)
    db = tmp_path / "cli.db"

    def invoke(*args: str, input: bytes | None = None) -> Result:
        return CliRunner().invoke(
            cli, ["--db", str(db), *args], input=input, catch_exceptions=False
        )

    return invoke


def pagerduty_body(index: int) -> bytes:
    """The triggered sample made a delivery of its own (new event and incident ids), one line."""
    payload = json.loads((PAGERDUTY / "triggered.json").read_bytes())
    payload["event"]["id"] = f"01NDJSON{index:06d}"
    payload["event"]["data"]["id"] = f"QNDJSON{index:06d}"
    payload["event"]["data"]["number"] = 9000 + index
    return json.dumps(payload, separators=(",", ":")).encode()


def test_many_files_take_their_headers_from_beside_them(run: Run) -> None:
    files = [str(PAGERDUTY / f"{name}.json") for name in ("triggered", "acknowledged", "resolved")]
    # Their headers files are named too, as a shell glob would: they are not deliveries.
    named = [*files, str(PAGERDUTY / "triggered.headers.json")]
    result = run("ingest", "pagerduty", "--headers-beside", *named)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "3 deliveries: 3 accepted, 0 duplicate, 0 rejected; incidents touched: INC-1"
    )
    listed = json.loads(run("deliveries", "--json").output)
    assert sorted(d["status"] for d in listed) == ["accepted"] * 3


def test_many_files_without_their_signatures_are_refused(run: Run) -> None:
    files = [str(PAGERDUTY / f"{name}.json") for name in ("triggered", "acknowledged")]
    result = run("ingest", "pagerduty", "--json", *files)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"]) == (0, 2)
    assert [r["file"] for r in summary["rejections"]] == files
    assert {r["http_status"] for r in summary["rejections"]} == {401}
    assert f"{files[0]}: rejected (401) missing X-PagerDuty-Signature header" in result.stderr


def test_ndjson_on_stdin_keeps_and_reports_a_bad_line(run: Run) -> None:
    lines = [pagerduty_body(1), b"{not json", pagerduty_body(2)]
    result = run("ingest", "pagerduty", "--ndjson", "--json", "-", input=b"\n".join(lines) + b"\n")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["deliveries"], summary["accepted"], summary["rejected"]) == (3, 2, 1)
    assert summary["incidents"] == ["INC-1"]
    [rejection] = summary["rejections"]
    assert (rejection["line"], rejection["file"], rejection["http_status"]) == (2, None, 400)
    assert result.stderr.startswith("line 2: rejected (400) invalid JSON")
    assert f"kept as delivery {rejection['delivery_id']}" in result.stderr
    kept = json.loads(run("deliveries", "--rejected", "--json").output)
    assert [(d["id"], d["bytes"]) for d in kept] == [(rejection["delivery_id"], len(lines[1]))]


def test_ndjson_past_a_batch_is_reported_line_by_line(run: Run) -> None:
    """Past one batch the lines are prepared a batch ahead, by a child process: the same
    summary, the refusal still named by its line."""
    lines = [pagerduty_body(i) for i in range(BATCH_SIZE + 60)]
    lines[BATCH_SIZE + 40] = b'{"event": {}}'
    result = run("ingest", "pagerduty", "--ndjson", "--json", "-", input=b"\n".join(lines))
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"]) == (BATCH_SIZE + 59, 1)
    assert [r["line"] for r in summary["rejections"]] == [BATCH_SIZE + 41]
    assert result.stderr.startswith(f"line {BATCH_SIZE + 41}: rejected (400)")
    incidents = json.loads(run("incidents", "--json").output)
    assert [i["signal_count"] for i in incidents] == [BATCH_SIZE + 59]


def test_ndjson_again_is_all_duplicates(run: Run, tmp_path: Path) -> None:
    ndjson = tmp_path / "events.ndjson"
    # A blank line is no delivery, but it still counts for the line numbers.
    ndjson.write_bytes(pagerduty_body(1) + b"\n\n" + pagerduty_body(2) + b"\r\n")
    first = json.loads(run("ingest", "pagerduty", "--ndjson", "--json", str(ndjson)).stdout)
    assert (first["accepted"], first["duplicate"], first["signals"]) == (2, 0, 2)
    again = run("ingest", "pagerduty", "--ndjson", str(ndjson))
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == (
        "2 deliveries: 0 accepted, 2 duplicate, 0 rejected; incidents touched: none"
    )
    incidents = json.loads(run("incidents", "--json").output)
    assert [i["signal_count"] for i in incidents] == [2]


def test_ndjson_lines_in_files_are_named_by_file_and_line(run: Run, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.ndjson", tmp_path / "bad.ndjson"
    good.write_bytes(pagerduty_body(1) + b"\n")
    bad.write_bytes(pagerduty_body(2) + b"\n" + b'{"event": {}}\n')
    result = run("ingest", "pagerduty", "--ndjson", "--json", str(good), str(bad))
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert [(r["file"], r["line"]) for r in summary["rejections"]] == [(str(bad), 2)]
    assert result.stderr.startswith(f"{bad} line 2: rejected (400)")


def test_one_file_still_prints_its_own_result(run: Run) -> None:
    result = run(
        "ingest",
        "pagerduty",
        str(PAGERDUTY / "triggered.json"),
        "--headers",
        str(PAGERDUTY / "triggered.headers.json"),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "accepted"


def test_stdin_is_read_once(run: Run) -> None:
    result = run("ingest", "pagerduty", "--ndjson", "-", "-", input=b"")
    assert result.exit_code == 2
    assert "stdin (-) can be read only once" in result.output


def test_batches_commit_in_turn_and_a_bad_delivery_stays_alone(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    db = tmp_path / "batch.db"
    settings = Settings(db=db, export=ExportSettings(dir=tmp_path / "context"))
    store = Store.open(db, clock)
    try:
        lines = [pagerduty_body(i) for i in range(4)]
        lines.insert(2, b"[]")
        stream = (tmp_path / "five.ndjson").open("w+b")
        with stream:
            stream.write(b"\n".join(lines))
            stream.seek(0)
            seen: list[tuple[int, int]] = []

            def after_commit(summary: BatchSummary) -> None:
                committed = store.conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
                seen.append((summary.total, committed))

            summary = ingest_in_batches(
                Ingestor(store, settings),
                "pagerduty",
                ndjson_deliveries(stream, {}),
                batch_size=2,
                on_batch=after_commit,
            )
    finally:
        store.close()
    assert seen == [(2, 2), (4, 4), (5, 5)]
    assert (summary.accepted, summary.rejected) == (4, 1)
    assert [r.delivery.line for r in summary.rejections] == [3]


def test_progress_is_rewritten_at_most_once_a_second(capsys: pytest.CaptureFixture[str]) -> None:
    from oncall_tui.cli.deliveries_cmd import _Progress

    now = [100.0]
    progress = _Progress(clock=lambda: now[0])
    summary = BatchSummary(accepted=500)
    progress.show(summary)  # the first batch came within the first second
    now[0] += 1.5
    summary.accepted, summary.duplicate = 1000, 2
    progress.show(summary)
    now[0] += 0.5
    progress.show(summary)
    progress.done()
    shown = capsys.readouterr().err
    assert shown == "\r1,002 deliveries: 1,000 accepted, 2 duplicate, 0 rejected\r\x1b[K"


def test_a_missing_file_stops_it_before_anything_is_stored(run: Run, tmp_path: Path) -> None:
    result = run("ingest", "pagerduty", str(PAGERDUTY / "triggered.json"), str(tmp_path / "typo"))
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert json.loads(run("deliveries", "--json").output) == []


def test_a_store_that_fails_mid_way_says_where_it_stopped(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    settings = Settings(db=db, export=ExportSettings(dir=tmp_path / "context"))
    store = Store.open(db, FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)))
    store.conn.execute("PRAGMA busy_timeout = 0")  # fail at once rather than wait 5 s
    other = sqlite3.connect(db, isolation_level=None)

    def lock_the_store_after_the_first_batch(_: BatchSummary) -> None:
        if not other.in_transaction:
            other.execute("BEGIN IMMEDIATE")  # another writer holds the lock from now on

    lines = b"\n".join(pagerduty_body(i) for i in range(5))
    try:
        with pytest.raises(BatchStoppedError) as stopped:
            ingest_in_batches(
                Ingestor(store, settings),
                "pagerduty",
                ndjson_deliveries(io.BytesIO(lines), {}),
                batch_size=2,
                on_batch=lock_the_store_after_the_first_batch,
            )
        other.execute("ROLLBACK")
        committed = store.conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    finally:
        other.close()
        store.close()
    assert (stopped.value.stopped_at, stopped.value.summary.total, committed) == ("line 3", 2, 2)
    assert "the 2 deliveries before it are committed" in str(stopped.value)
