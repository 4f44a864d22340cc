"""The timeline's delivery rows: whose they are, how often, and whether anyone read them.

The journals are built the way the product builds them: payloads from ``sample_data`` through
the ingestor, sessions and decisions through the actions, the context files by the real
exporter, and ``get_context`` through the real MCP server's tool (called in process, the server
opening the same SQLite DB). A last test writes rows as an older version recorded them.

Payload shapes: the Alertmanager webhook body
(https://prometheus.io/docs/alerting/latest/configuration/#webhook_config) and Grafana's webhook
contact point (https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/);
``get_context`` is called as an MCP ``tools/call``
(https://modelcontextprotocol.io/specification/2025-06-18/server/tools).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions import sessions as session_actions
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.agents.export.sync import sync
from oncall_tui.agents.mcp import build_server
from oncall_tui.config import ExportSettings, Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.journal import Kind
from oncall_tui.core.models import IncidentState
from oncall_tui.core.timeline.exposure import exposure
from oncall_tui.core.timeline.html import timeline_html
from oncall_tui.core.timeline.md import timeline_markdown
from oncall_tui.core.timeline.model import Milestone, Timeline
from oncall_tui.core.timeline.report import build_timeline
from oncall_tui.core.timeline.schema import IncidentTimeline, TimelineDocument, timeline_json
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.timeline import StorySource
from oncall_tui.tui.replay_loader import event_detail
from tests.factories import append_stored
from tests.support.samples import sample

START = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)
REPO = "acme-payments/payments-api"
PROCESSOR_FILE = "services/processor/retry.py"
API_FILE = "services/payments/client.py"
"""Files of payment-processor (INC-1, from Alertmanager) and payments-api (INC-2, Grafana)."""


class Night:
    """One DB written by the product's own paths on a clock the test moves."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "oncall.db"
        self.settings = Settings(db=self.db, export=ExportSettings(dir=tmp_path / "export"))
        self.rules = Rules.from_settings(self.settings)
        self.clock = FixedClock(START)
        with self.store() as store:
            self._ingest(store, "alertmanager", "alertmanager/firing.json")
            load_catalog_file(store, self.rules, sample("catalog.yaml"), "test")
            session_actions.register(
                store, self.rules, "s1", repo=REPO, paths=[PROCESSOR_FILE, API_FILE]
            )

    @contextmanager
    def store(self) -> Iterator[Store]:
        store = Store.open(self.db, self.clock)
        try:
            yield store
        finally:
            store.close()

    def at(self, minutes: float) -> None:
        self.clock.set(START + timedelta(minutes=minutes))

    def _ingest(self, store: Store, source: str, relative: str) -> list[str]:
        body = sample(relative).read_bytes()
        return Ingestor(store, self.settings).ingest(source, body, {}, verify="none").incidents

    def open_second_incident(self) -> None:
        with self.store() as store:
            assert self._ingest(store, "grafana", "grafana/firing.json") == ["INC-2"]

    def approve(self, incident_id: str) -> None:
        with self.store() as store:
            for push in store.tables().pushes_for_incident(incident_id):
                if push.state.is_open:
                    push_actions.approve(store, push.id, "user:alice", self.rules)

    def resolve(self, incident_id: str) -> None:
        with self.store() as store:
            change_incident_state(store, incident_id, IncidentState.RESOLVED, "alice", self.rules)

    def heartbeat(self) -> None:
        with self.store() as store:
            session_actions.heartbeat(store, self.rules, "s1")

    def sync_files(self) -> None:
        with self.store() as store:
            sync(store, self.settings)

    def get_context(self) -> None:
        """What an agent's MCP client does: call the ``get_context`` tool of its server."""
        server = build_server(self.db, self.settings, self.clock, "s1")

        async def call() -> None:
            await server.call_tool("get_context", {})

        anyio.run(call)

    def report(self, incident_id: str) -> IncidentTimeline:
        with self.store() as store:
            return build_timeline(StorySource(store, incident_id).timeline(), fence_key(store))

    def timeline(self, incident_id: str) -> Timeline:
        with self.store() as store:
            return StorySource(store, incident_id).timeline()

    def deliveries(self) -> list[tuple[int, dict[str, object]]]:
        with self.store() as store:
            rows = store.conn.execute(
                "SELECT seq, body FROM journal WHERE kind = ? ORDER BY seq",
                (Kind.CONTEXT_DELIVERED.value,),
            ).fetchall()
        return [(int(seq), json.loads(body)) for seq, body in rows]


@pytest.fixture
def night(tmp_path: Path) -> Night:
    return Night(tmp_path)


def test_reads_during_a_later_incident_stay_out_of_a_resolved_ones_timeline(night: Night) -> None:
    night.approve("INC-1")
    night.at(1)
    night.get_context()  # INC-1's guidance read: INC-1's row
    night.at(2)
    night.resolve("INC-1")
    night.approve("INC-1")  # the stand-down, where the policy waits for a person
    night.at(3)
    night.get_context()  # says INC-1 is over: INC-1's row
    night.at(4)
    night.open_second_incident()
    night.approve("INC-2")
    for minute in (5, 6, 7):
        night.at(minute)
        night.get_context()  # INC-2's guidance only: not INC-1's

    inc1 = night.report("INC-1")
    assert [d.at for d in inc1.deliveries] == [START + timedelta(minutes=m) for m in (1, 3)]
    delivered = [e for e in inc1.events if e.kind == Kind.CONTEXT_DELIVERED]
    assert [e.ts for e in delivered] == [START + timedelta(minutes=m) for m in (1, 3)]
    inc2 = night.report("INC-2")
    assert [(d.at, d.count) for d in inc2.deliveries] == [(START + timedelta(minutes=5), 3)]


def test_reads_of_one_version_make_one_row_with_a_count(night: Night) -> None:
    night.approve("INC-1")
    for minute in (10, 11, 12, 14):
        night.at(minute)
        night.get_context()
    seqs = [seq for seq, _ in night.deliveries()]
    assert len(seqs) == 4

    report = night.report("INC-1")
    [delivery] = report.deliveries
    assert (delivery.seq, delivery.count, delivery.channel, delivery.told) == (
        seqs[0],
        4,
        "mcp",
        True,
    )
    assert (delivery.first_at, delivery.last_at) == (
        START + timedelta(minutes=10),
        START + timedelta(minutes=14),
    )
    repeats = [e.repeat_of for e in report.events if e.kind == Kind.CONTEXT_DELIVERED]
    assert repeats == [None, seqs[0], seqs[0], seqs[0]]

    document = TimelineDocument(incidents=[report])
    as_json = json.loads(timeline_json(document))["incidents"][0]["deliveries"][0]
    assert (as_json["count"], as_json["first_at"], as_json["last_at"]) == (
        4,
        "2026-11-23T05:40:00Z",
        "2026-11-23T05:44:00Z",
    )
    line = "P-1 read 4 times by s1 through MCP, 05:40-05:44"
    markdown = timeline_markdown(document)
    assert markdown.count("through MCP") == 1
    assert f"| 05:40:00 | {line} | first agent told |" in markdown
    assert "### 2026-11-23 05:40:00 UTC: P-1 to `s1` via mcp, 4 times until" in markdown
    page = timeline_html(document)
    assert page.count("through MCP") == 1 and line in page
    # the replay steps through every read, and names the repeats for what they are
    summaries = [e.summary for e in night.timeline("INC-1").events if e.kind == "context.delivered"]
    assert summaries[0] == "P-1 read by s1 through MCP"
    assert summaries[1] == f"P-1 read by s1 through MCP again (same version as #{seqs[0]})"


def test_an_agent_is_told_by_a_read_not_by_a_file_write(night: Night) -> None:
    night.at(0.5)
    night.get_context()  # only the "being assessed" notice while P-1 waits: nothing to act on
    night.approve("INC-1")
    night.at(1)
    night.sync_files()  # CONTEXT.md written: nothing proves the agent opened it
    for minute in (2, 4):
        night.at(minute)
        night.heartbeat()
    night.at(5)
    night.get_context()  # read: told
    night.at(7)
    night.heartbeat()
    channels = [body["channel"] for _, body in night.deliveries()]
    assert "file" in channels and channels[-1] == "mcp"

    report = night.report("INC-1")
    assert report.times.first_delivered_at == START + timedelta(minutes=5)
    assert report.times.first_file_delivery_at == START + timedelta(minutes=1)
    marks = {e.milestone: e.summary for e in report.events if e.kind == Kind.CONTEXT_DELIVERED}
    assert marks[Milestone.FIRST_TOLD] == "P-1 read by s1 through MCP"
    assert marks[Milestone.FILE] == "P-1 delivered to file for s1"
    assert marks[Milestone.DELIVERED].endswith(
        "(only the notice that the incident is being assessed)"
    )
    told = {d.channel: d.told for d in report.deliveries}
    assert told["file"] is False and told["mcp"] is True
    [found] = report.exposure
    assert (found.missing_s, found.current_s) == (300, 120)
    assert exposure(night.timeline("INC-1"))[0].seconds(found.intervals[0].status) == 300

    markdown = timeline_markdown(TimelineDocument(incidents=[report]))
    told_part, files_part = markdown.split("## What agents were told")[1].split(
        "## Context files written"
    )
    assert "via mcp" in told_part and "via file" not in told_part
    assert "via file" in files_part.split("## Decisions")[0]
    assert "first agent told after 5 min" in markdown


def test_a_stand_down_recorded_with_every_later_read_counts_once(tmp_path: Path) -> None:
    """Older versions put a live stand-down's id in every later read of the session, though
    the document no longer named the incident: the rows are there in old journals."""
    night = Night(tmp_path)
    night.approve("INC-1")
    night.resolve("INC-1")
    night.approve("INC-1")
    night.open_second_incident()
    night.approve("INC-2")
    with night.store() as store:
        tables = store.tables()
        found = [*tables.pushes_for_incident("INC-1"), *tables.pushes_for_incident("INC-2")]
    pushes = {p.incident_id + p.kind.value: p.id for p in found}
    stand_down, inc2_update = pushes["INC-1stand-down"], pushes["INC-2update"]
    with night.store() as store, store.write() as writer:
        for minute in (5, 6, 7):
            body = {
                "session_id": "s1",
                "push_ids": [inc2_update, stand_down],
                "channel": "mcp",
                "through_seq": 1,
            }
            ts = START + timedelta(minutes=minute)
            append_stored(writer, Kind.CONTEXT_DELIVERED.value, body, "agent:s1", ts)

    inc1 = night.report("INC-1")
    assert [d.at for d in inc1.deliveries] == [START + timedelta(minutes=5)]
    assert inc1.deliveries[0].count == 1
    inc2 = night.report("INC-2")
    assert [(d.at, d.count) for d in inc2.deliveries] == [(START + timedelta(minutes=5), 3)]

    # the replay agrees: one delivery step in INC-1's story, showing INC-1's stand-down
    with night.store() as store:
        cursor = StorySource(store, "INC-1").open()
        [step] = [e for e in cursor.timeline.events if e.kind == Kind.CONTEXT_DELIVERED]
        cursor.seek_seq(step.seq)
        detail = event_detail(cursor.event, cursor.state, fence_key(store))
    assert f"Guidance of {stand_down} v" in detail
