"""Pipeline health: the pure judgement, the header's fitting, and the store-side reader."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

from oncall_tui.config import (
    HealthSettings,
    PollerSettings,
    PollersSettings,
    Settings,
    SourceSettings,
)
from oncall_tui.core.clock import FixedClock, iso
from oncall_tui.core.health import Exporter, SourceExpectation, assess
from oncall_tui.store import deliveries
from oncall_tui.store.health import NewestDeliveries, expectations, read_health
from oncall_tui.store.journal import Store
from oncall_tui.store.lease import Lease
from oncall_tui.tui.header_fit import SEPARATOR, Part, fit

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def judge(**overrides: object):  # type: ignore[no-untyped-def]
    facts: dict[str, object] = {
        "policy_mode": "approve",
        "exporter": Exporter("serve", "host-a", 42),
    }
    facts.update(overrides)
    expected = [SourceExpectation("alertmanager", 900), SourceExpectation("pagerduty", 60)]
    last = {
        "alertmanager": NOW - timedelta(seconds=12),
        "pagerduty": NOW - timedelta(minutes=3),
    }
    return assess(expected, last, NOW, **facts)  # type: ignore[arg-type]


def test_a_source_quiet_past_its_own_threshold_is_silent_and_named_in_the_problems() -> None:
    health = judge()
    alertmanager, pagerduty = health.sources
    assert (alertmanager.silent, alertmanager.age_label(NOW)) == (False, "12s")
    assert (pagerduty.silent, pagerduty.age_label(NOW)) == (True, "3m")
    assert [s.name for s in health.silent_sources] == ["pagerduty"]
    assert health.problems() == ["pagerduty: no delivery for 3m (silence threshold 60s)"]
    assert not health.ok


def test_no_sources_and_nobody_exporting_without_sessions_is_all_well() -> None:
    health = assess([], {}, NOW, policy_mode="observe", exporter=None)
    assert health.sources == ()
    assert health.ok
    assert health.as_json()["exporter"] is None


def test_a_source_that_never_delivered_is_shown_not_judged() -> None:
    health = assess([SourceExpectation("grafana", 60)], {}, NOW, policy_mode="auto", exporter=None)
    [grafana] = health.sources
    assert (grafana.age_s, grafana.silent, grafana.age_label(NOW)) == (None, False, "never")
    assert health.ok


def test_an_unconfigured_source_that_delivered_is_listed_after_the_configured_never_silent() -> (
    None
):
    last = {"github": NOW - timedelta(days=7)}
    health = assess(
        [SourceExpectation("pagerduty", 900)], last, NOW, policy_mode="approve", exporter=None
    )
    assert [(s.name, s.configured, s.silent) for s in health.sources] == [
        ("pagerduty", True, False),
        ("github", False, False),
    ]


def test_nobody_exporting_while_sessions_are_active_is_a_problem() -> None:
    health = judge(exporter=None, active_sessions=2)
    assert health.unexported
    assert any("nobody exports context while 2 sessions are active" in p for p in health.problems())


@pytest.mark.parametrize("mode", ["observe", "approve", "auto"])
def test_the_policy_mode_is_reported_as_configured(mode: str) -> None:
    health = judge(policy_mode=mode)
    assert health.policy_mode == mode
    assert health.as_json()["policy_mode"] == mode


def test_the_json_document_has_its_stable_keys() -> None:
    document = judge(agent_errors=2, backlog=5, active_sessions=1).as_json()
    assert sorted(document) == [
        "active_sessions",
        "agent_errors_24h",
        "backlog",
        "exporter",
        "now",
        "ok",
        "policy_mode",
        "problems",
        "sources",
    ]
    assert sorted(document["sources"][0]) == [
        "age_s",
        "configured",
        "last_delivery_at",
        "name",
        "polled",
        "silence_s",
        "silent",
    ]
    assert document["exporter"] == {"program": "serve", "host": "host-a", "pid": 42}


def test_a_sender_clock_ahead_of_ours_is_no_negative_age() -> None:
    ahead = {"alertmanager": NOW + timedelta(seconds=5)}
    health = assess(
        [SourceExpectation("alertmanager", 60)], ahead, NOW, policy_mode="approve", exporter=None
    )
    assert health.sources[0].age_s == 0.0


# --- the header's fitting ------------------------------------------------------------------


PARTS = [
    Part("3 active incidents", "3 active", 100, keep=True),
    Part("alertmanager 12s", "alertmanager 12s", 55),
    Part("pagerduty 3m", "pagerduty 3m", 90),
    Part("policy: observe", "observe", 75),
    Part("backlog 0", "backlog 0", 20),
    Part("receiver off", "receiver off", 80, keep=True),
]


def width_of(shown: list[tuple[Part, str]]) -> int:
    return sum(cell_len(t) for _, t in shown) + cell_len(SEPARATOR) * (len(shown) - 1)


def test_everything_long_when_it_fits() -> None:
    assert [t for _, t in fit(PARTS, 200)] == [p.long for p in PARTS]


def test_narrower_shortens_then_drops_the_least_important_first_keeping_order() -> None:
    shown = fit(PARTS, 67)
    assert [t for _, t in shown] == [
        "3 active",
        "alertmanager 12s",
        "pagerduty 3m",
        "observe",
        "receiver off",
    ]
    assert width_of(shown) == 67
    narrower = [t for _, t in fit(PARTS, 40)]
    assert narrower == ["3 active", "pagerduty 3m", "receiver off"]


@pytest.mark.parametrize("width", range(0, 90, 7))
def test_a_shown_part_is_never_cut(width: int) -> None:
    shown = fit(PARTS, width)
    assert width_of(shown) <= width or not shown
    assert all(text in (part.long, part.short) for part, text in shown)


# --- the store-side reader, on a real DB ---------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "health.db", FixedClock(NOW))
    yield opened
    opened.close()


def deliver(
    conn: sqlite3.Connection, source: str, at: datetime, key: str | None, status: str = "accepted"
) -> int:
    delivery_id = deliveries.insert(
        conn,
        source=source,
        delivery_key=key,
        received_at=at,
        headers={},
        body=b"{}",
        status=status,
        http_status=202 if status != "rejected" else 401,
        reason=None,
    )
    conn.commit()
    assert delivery_id is not None
    return delivery_id


def test_expectations_come_from_sources_and_pollers_with_overrides() -> None:
    settings = Settings(
        sources={"pagerduty": SourceSettings(silence_s=120), "grafana": SourceSettings()},
        pollers=PollersSettings(alertmanager=PollerSettings(url="http://127.0.0.1:9093")),
        health=HealthSettings(silence_s=600),
    )
    assert expectations(settings) == [
        SourceExpectation("alertmanager", 600, polled=True),
        SourceExpectation("grafana", 600),
        SourceExpectation("pagerduty", 120),
    ]


def test_newest_deliveries_follow_new_rows_and_retries_and_ignore_refusals(store: Store) -> None:
    conn = store.conn
    deliver(conn, "alertmanager", NOW - timedelta(hours=2), "a1")
    newest = NewestDeliveries()
    assert newest.read(conn) == {"alertmanager": NOW - timedelta(hours=2)}
    deliver(conn, "alertmanager", NOW - timedelta(minutes=1), "a2")
    deliver(conn, "pagerduty", NOW - timedelta(seconds=30), None, status="rejected")
    assert newest.read(conn) == {"alertmanager": NOW - timedelta(minutes=1)}
    deliveries.record_retry(conn, "alertmanager", "a2", NOW - timedelta(seconds=5))
    conn.commit()
    assert newest.read(conn) == {"alertmanager": NOW - timedelta(seconds=5)}


def test_read_health_gathers_backlog_sessions_and_the_exporter(store: Store) -> None:
    conn = store.conn
    deliver(conn, "alertmanager", NOW - timedelta(minutes=20), "a1", status="received")
    conn.execute(
        "INSERT INTO sessions (id, repo, last_seen, ended_at, data) VALUES (?, ?, ?, NULL, '{}')",
        ("s-1", "api", iso(NOW - timedelta(minutes=1))),
    )
    conn.commit()
    settings = Settings(sources={"alertmanager": SourceSettings()}, db=Path("unused.db"))
    health = read_health(conn, settings, NOW, agent_errors=3)
    assert health.backlog == 1 and health.active_sessions == 1 and health.agent_errors == 3
    assert [s.name for s in health.silent_sources] == ["alertmanager"]  # 20 min > 900 s
    assert health.unexported
    Lease("export", "serve").hold(conn)
    exporting = read_health(conn, settings, NOW, agent_errors=0)
    assert exporting.exporter is not None and exporting.exporter.program == "serve"
    # The lease is judged on wall-clock time: once it runs out nobody exports.
    later = read_health(conn, settings, NOW, agent_errors=0, wall_now=time.time() + 60)
    assert later.exporter is None
