"""The timeline exports of the demo night: golden files, the schema, and the page in a browser.

The night is ``timeline_story.play_story``: the demo scenario at its real pace on a fixed clock
with a fixed fence key, plus the exporter, heartbeats and decisions around it. The three exports
are compared byte for byte with ``golden/timeline_demo.{md,json,html}``.

To regenerate them after an intended change::

    ONCALL_TUI_REGEN_GOLDEN=1 pytest tests/integration/test_timeline_export.py

then read the new files (and their diff) before committing them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from oncall_tui.agents.export.plan import Failure
from oncall_tui.agents.export.sync import _journal_failures
from oncall_tui.cli.app_context import AppContext
from oncall_tui.cli.timeline_cmd import timeline
from oncall_tui.core.context.render import render_markdown
from oncall_tui.core.journal_rows import Row
from oncall_tui.core.models import Link
from oncall_tui.core.replay.context import session_context
from oncall_tui.core.replay.cursor import walk
from oncall_tui.core.timeline.html import timeline_html
from oncall_tui.core.timeline.md import condensed, timeline_markdown
from oncall_tui.core.timeline.model import Timeline
from oncall_tui.core.timeline.report import build_timeline
from oncall_tui.core.timeline.schema import TimelineDocument, timeline_json, timeline_json_schema
from oncall_tui.store.context import build_session_context
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.reports import fetch_agents_report, join_inputs
from oncall_tui.store.timeline import StorySource
from tests.factories import MemoryJournal, make_signal
from tests.integration.timeline_story import play_story
from tests.support.environment import drop_our_variables

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("ONCALL_TUI_REGEN_GOLDEN") == "1"
RENDER = {"md": timeline_markdown, "json": timeline_json, "html": timeline_html}


@dataclass
class Night:
    db: Path
    documents: dict[int, str]
    """What the exporter wrote for each file delivery (seq → CONTEXT.md)."""
    document: TimelineDocument


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    settings, documents = play_story(tmp_path_factory.mktemp("night"))
    store = Store.open(settings.db)
    try:
        report = build_timeline(StorySource(store, "INC-1").timeline(), fence_key(store))
    finally:
        store.close()
    return Night(settings.db, documents, TimelineDocument(incidents=[report]))


@pytest.mark.parametrize("fmt", sorted(RENDER))
def test_export_matches_its_golden_file(night: Night, fmt: str) -> None:
    text = RENDER[fmt](night.document)
    golden = GOLDEN / f"timeline_demo.{fmt}"
    if REGENERATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"regenerate: see {__name__} docstring"


def test_json_validates_against_its_schema(night: Night) -> None:
    document = json.loads(timeline_json(night.document))
    Draft202012Validator.check_schema(timeline_json_schema())
    errors = list(Draft202012Validator(timeline_json_schema()).iter_errors(document))
    assert errors == []
    assert document["schema"] == "1"
    assert TimelineDocument.model_validate(document) == night.document


def test_each_delivered_document_is_the_file_the_agent_found(night: Night) -> None:
    deliveries = night.document.incidents[0].deliveries
    assert len(deliveries) == len(night.documents) == 13, "4 notices, then 9 approved versions"
    for delivery in deliveries:
        assert delivery.document == night.documents[delivery.seq], delivery.seq


def test_the_story_folds_like_the_whole_journal(night: Night) -> None:
    """Reading only the story's rows gives the same incident, pushes and sessions at every event
    as folding the whole journal."""
    store = Store.open(night.db)
    try:
        source = StorySource(store, "inc-1")
        story = source.timeline()
        whole = Timeline("INC-1", [Row.of(e) for e in store.entries()])
    finally:
        store.close()
    assert len(story.rows) < len(whole.rows)
    assert [e.seq for e in story.events] == [e.seq for e in whole.events]
    for (event, mine), (_, full) in zip(walk(story), walk(whole), strict=True):
        assert mine.incidents == full.incidents, event.seq
        assert {k: full.pushes[k] for k in mine.pushes} == mine.pushes
        assert {k: full.sessions[k] for k in source.scope.sessions} == mine.sessions


def test_replayed_context_equals_the_store_context(night: Night) -> None:
    store = Store.open(night.db)
    try:
        tables = list(walk(StorySource(store, "INC-1").timeline()))[-1][1]
        key = fence_key(store)
        for session_id in tables.sessions:
            live = build_session_context(store.conn, session_id)
            replayed = session_context(tables, session_id)
            assert live is not None and replayed is not None
            assert render_markdown(replayed, key) == render_markdown(live, key)
    finally:
        store.close()


def test_sender_text_cannot_escape_in_any_format() -> None:
    evil = (
        "<script>alert(1)</script> ![x](https://evil.example/t.png) | cell | `code`"
        ' <img src=x onerror="alert(2)"> \x1b[31m'
    )
    journal = MemoryJournal()
    signal = make_signal("evil", title=evil).model_copy(
        update={
            "links": [
                Link(href="javascript:alert(3)", text="run"),
                Link(href="https://runbooks.example.com/p?a=1&b=<2>", text="bad"),
                Link(href="https://runbooks.example.com/ok", text="ok"),
            ]
        }
    )
    journal.record(signal)
    report = build_timeline(Timeline("INC-1", [Row.of(e) for e in journal.entries]), b"k" * 32)
    document = TimelineDocument(incidents=[report])
    page = timeline_html(document)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "onerror=&quot;" in page
    assert "javascript:" not in page and "\x1b" not in page
    assert '<a href="https://runbooks.example.com/ok" rel="noopener noreferrer">' in page
    assert page.count("<a ") == 1
    markdown = timeline_markdown(document)
    assert "![x]" not in markdown and "!\\[x\\]" in markdown
    assert "<script>" not in markdown and "\\| cell \\|" in markdown
    assert "javascript:" not in markdown and "\x1b" not in markdown
    assert "\x1b" not in timeline_json(document)


# --- the command ------------------------------------------------------------------------


def invoke(db: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    app = AppContext(config_path=None, db_override=db)
    result = runner.invoke(timeline, list(args), obj=app, catch_exceptions=False)
    app.close()
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    drop_our_variables(monkeypatch)


@pytest.mark.usefixtures("isolated")
def test_the_command_writes_each_format(night: Night, tmp_path: Path) -> None:
    code, out, _ = invoke(night.db, "INC-1")
    assert code == 0 and out == (GOLDEN / "timeline_demo.md").read_text(encoding="utf-8")
    target = tmp_path / "t.html"
    code, _, err = invoke(night.db, "inc-1", "--format", "html", "--output", str(target))
    assert code == 0 and "wrote" in err
    assert target.read_text(encoding="utf-8") == (GOLDEN / "timeline_demo.html").read_text(
        encoding="utf-8"
    )


@pytest.mark.usefixtures("isolated")
def test_the_command_cuts_the_story_and_covers_a_window(night: Night) -> None:
    code, out, _ = invoke(night.db, "INC-1", "--format", "json", "--at", "2026-11-23T12:15:00Z")
    assert code == 0
    [cut] = json.loads(out)["incidents"]
    assert cut["incident"]["state"] == "acknowledged"
    assert all(e["ts"] <= "2026-11-23T12:15:00Z" for e in cut["events"])
    assert not any(e["milestone"] == "rollback" for e in cut["events"])
    code, out, _ = invoke(night.db, "--since", "2026-11-23T11:00Z", "--until", "2026-11-23T13:00")
    assert code == 0 and out.startswith("# INC-1: ")
    code, out, _ = invoke(night.db, "--since", "2026-11-22T00:00Z", "--until", "2026-11-22T23:00Z")
    assert (code, out) == (0, "No incidents.\n")


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("INC-7",), 1, "no incident INC-7"),
        (("INC-1", "--at", "2026-11-23T11:53:00Z"), 1, "had not been opened yet"),
        (("INC-1", "--at", "yesterday-ish"), 2, "is not a time"),
        ((), 2, "give an INCIDENT_ID"),
        (("INC-1", "--since", "-2h"), 2, "give an INCIDENT_ID"),
        (("INC-1", "--until", "-2h"), 2, "--until goes with --since"),
    ],
)
def test_the_command_explains_mistakes(
    night: Night, args: tuple[str, ...], code: int, message: str
) -> None:
    got, _, err = invoke(night.db, *args)
    assert got == code and message in err and "Traceback" not in err


# --- the page in a real browser ---------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB(A) PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunk = data[position + 8 : position + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    channels = 3 if color == 2 else 4
    raw, stride, rows = zlib.decompress(idat), width * channels, []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min(
                    (abs(guess - left), 0, left),
                    (abs(guess - up), 1, up),
                    (abs(guess - corner), 2, corner),
                )
                line[x] = (line[x] + near[2]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def test_the_page_renders_in_headless_chromium(night: Night, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if not os.environ.get("CI"):
            pytest.skip("chromium is not installed (apt-get install chromium)")
        pytest.fail("CI must have chromium: apt-get install -y chromium")
    page = tmp_path / "timeline.html"
    page.write_text(timeline_html(night.document), encoding="utf-8")
    shot = tmp_path / "shot.png"
    base = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=420,900",
    ]
    url = page.as_uri()
    subprocess.run(
        [*base, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True
    )
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (420, 900)
    pixels = {row[x : x + 3] for row in rows[::3] for x in range(0, len(row), 12)}
    assert len(pixels) > 20, "the screenshot is blank"
    dom = subprocess.run(
        [*base, "--dump-dom", url], capture_output=True, timeout=120, check=True, text=True
    ).stdout
    shown = condensed(night.document.incidents[0].events)
    assert dom.count('<li class="event') == len(shown)
    assert "P-2 (for cc-processor-retry) approved by user:demo-oncall" in dom
    assert "first agent told" in dom and "<svg" in dom


# --- a journal still being written ------------------------------------------------------


def test_the_replay_follows_a_journal_being_written(tmp_path: Path) -> None:
    from oncall_tui.actions import Rules
    from oncall_tui.actions import sessions as session_actions
    from oncall_tui.actions.catalog import load_catalog_file
    from oncall_tui.core.agents import AgentKind
    from oncall_tui.demo.command import demo_settings
    from oncall_tui.demo.scenario import SAMPLE_DATA
    from oncall_tui.ingest.record import Ingestor

    settings = demo_settings(tmp_path)
    store = Store.open(settings.db)
    rules = Rules.from_settings(settings)
    load_catalog_file(store, rules, SAMPLE_DATA / "catalog.yaml", "user:test")

    def join(session_id: str, path: str) -> None:
        session_actions.register(
            store,
            rules,
            session_id,
            agent=AgentKind.CLAUDE_CODE,
            repo="acme-payments/payments-api",
            paths=[path],
        )

    join("s-one", "services/processor/retry.py")
    body = (SAMPLE_DATA / "alertmanager" / "firing.json").read_bytes()
    assert Ingestor(store, settings).ingest("alertmanager", body, {}, verify="none").incidents
    source = StorySource(store, "INC-1")
    cursor = source.open()
    assert source.refresh(cursor) is cursor
    before = len(cursor.timeline.events)
    cursor.step(10_000)
    session_actions.heartbeat(store, rules, "s-one")
    assert source.refresh(cursor) is cursor
    assert len(cursor.timeline.events) == before + 1
    assert cursor.step().kind == "session.seen"
    assert cursor.state.sessions["s-one"].last_seen == cursor.event.ts
    join("s-two", "services/payments/client.py")  # told about INC-1 too: its past is needed
    fresh = source.refresh(cursor)
    assert fresh is not cursor and fresh.event.seq == cursor.event.seq
    assert "s-two" in source.scope.sessions
    assert fresh.jump("resolved") is None
    fresh.step(10_000)
    assert "s-two" in fresh.state.sessions
    store.close()


def test_every_read_of_the_journal_by_kind_is_served_by_an_index(
    night: Night, tmp_path: Path
) -> None:
    """The index by kind leaves out the rows written for every delivery; a query by kind that
    does not say so in each of its branches falls back to reading the whole journal."""
    db = tmp_path / "night.db"
    with sqlite3.connect(night.db) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    store = Store.open(db)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        StorySource(store, "INC-1").timeline()
        join_inputs(store.conn)
        fetch_agents_report(
            store.conn, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
        _journal_failures(store, [Failure("CONTEXT.md", ["disk full"])])
    finally:
        store.conn.set_trace_callback(None)
    # ``+kind`` asks SQLite not to use the index (the story is read in seq order on purpose).
    by_kind = [s for s in statements if "FROM journal" in s and re.search(r"[^+]kind (=|IN)", s)]
    assert len(by_kind) >= 6, by_kind
    for statement in by_kind:
        plan = " | ".join(row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + statement))
        # Signals are looked up by their seq; everything else by the index of its kind.
        assert "journal_kind" in plan or "(rowid=?)" in plan, (statement, plan)
    store.close()
