"""Grouping signals into incidents: identity, service correlation, out-of-order, changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oncall_tui.core import incidents
from oncall_tui.core.models import IncidentState, Severity, SignalKind, SignalStatus
from tests.factories import MemoryJournal, at, make_signal


def test_firing_opens_and_resolve_closes() -> None:
    journal = MemoryJournal()
    assert journal.record(make_signal("a1")) == ["INC-1"]
    assert journal.tables.incidents["INC-1"].state is IncidentState.TRIGGERED
    assert journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=10)) == ["INC-1"]
    incident = journal.tables.incidents["INC-1"]
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolved_at == at(10)
    assert incident.signal_count == 2


def test_same_status_again_is_a_duplicate() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("a1"))
    assert journal.record(make_signal("a1")) is None
    assert journal.tables.incidents["INC-1"].signal_count == 1


def test_pagerduty_incident_joins_alertmanager_alert_of_same_service() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("am:1", severity=Severity.ERROR))
    touched = journal.record(
        make_signal(
            "pd:1",
            minute=2,
            source="pagerduty",
            kind=SignalKind.INCIDENT,
            severity=Severity.CRITICAL,
        )
    )
    assert touched == ["INC-1"]
    incident = journal.tables.incidents["INC-1"]
    assert incident.sources == ["alertmanager", "pagerduty"]
    assert incident.severity is Severity.CRITICAL, "severity escalates to the worst firing signal"
    # The incident resolves only when both member alerts are resolved.
    journal.record(make_signal("am:1", status=SignalStatus.RESOLVED, minute=5))
    assert journal.tables.incidents["INC-1"].state is IncidentState.TRIGGERED
    journal.record(make_signal("pd:1", status=SignalStatus.RESOLVED, minute=6, source="pagerduty"))
    assert journal.tables.incidents["INC-1"].state is IncidentState.RESOLVED


def test_outside_the_window_or_other_service_opens_a_new_incident() -> None:
    journal = MemoryJournal(incidents.GroupingRules(correlation_window=timedelta(minutes=30)))
    journal.record(make_signal("a1"))
    assert journal.record(make_signal("a2", minute=45)) == ["INC-2"]
    assert journal.record(make_signal("a3", minute=46, service="checkout")) == ["INC-3"]
    assert journal.record(make_signal("a4", minute=47, service=None)) == ["INC-4"]


def test_resolve_before_trigger_opens_a_resolved_incident() -> None:
    journal = MemoryJournal()
    assert journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=10)) == []
    assert journal.tables.incidents == {}
    assert journal.record(make_signal("a1", minute=0)) == ["INC-1"]
    incident = journal.tables.incidents["INC-1"]
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolved_at == at(10)
    assert incident.signal_count == 2, "the early resolve is attached to the incident"


def test_stale_firing_after_resolve_does_not_reopen() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("a1", minute=0, source="pagerduty"))
    journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=10, source="pagerduty"))
    journal.record(
        make_signal("a1", status=SignalStatus.ACKNOWLEDGED, minute=5, source="pagerduty")
    )
    assert journal.tables.incidents["INC-1"].state is IncidentState.RESOLVED


def test_newer_firing_reopens() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("pd:7", minute=0, source="pagerduty"))
    journal.record(make_signal("pd:7", status=SignalStatus.RESOLVED, minute=10, source="pagerduty"))
    journal.record(make_signal("pd:7", minute=20, source="pagerduty"))
    incident = journal.tables.incidents["INC-1"]
    assert incident.state is IncidentState.TRIGGERED
    assert incident.resolved_at is None


def test_acknowledged_signal_acknowledges() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("pd:1", source="pagerduty"))
    journal.record(
        make_signal("pd:1", status=SignalStatus.ACKNOWLEDGED, minute=1, source="pagerduty")
    )
    incident = journal.tables.incidents["INC-1"]
    assert incident.state is IncidentState.ACKNOWLEDGED
    assert incident.acknowledged_at == at(1)


def test_deploy_before_incident_is_a_suspect_and_rollback_during_is_linked() -> None:
    journal = MemoryJournal()
    deploy = make_signal(
        "deploy-1", kind=SignalKind.DEPLOY, status=SignalStatus.SUCCESS, minute=-20, source="github"
    )
    assert journal.record(deploy) == []
    journal.record(make_signal("a1", minute=0))
    rollback = make_signal(
        "deploy-2", kind=SignalKind.ROLLBACK, status=SignalStatus.SUCCESS, minute=5, source="github"
    )
    assert journal.record(rollback) == ["INC-1"]
    links = {(link.signal_id, link.relation) for link in journal.tables.change_links.values()}
    assert links == {(1, "suspect"), (journal.entries[-1].body["signal_id"], "during")}


def test_late_deploy_delivery_is_linked_as_suspect() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("a1", minute=0))
    journal.record(
        make_signal("deploy-1", kind=SignalKind.DEPLOY, status=SignalStatus.SUCCESS, minute=-5)
    )
    assert [link.relation for link in journal.tables.change_links.values()] == ["suspect"]


def test_deploy_long_before_is_not_a_suspect() -> None:
    journal = MemoryJournal(incidents.GroupingRules(suspect_window=timedelta(minutes=60)))
    journal.record(
        make_signal("deploy-1", kind=SignalKind.DEPLOY, status=SignalStatus.SUCCESS, minute=-120)
    )
    journal.record(make_signal("a1", minute=0))
    assert journal.tables.change_links == {}


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED, True),
        (IncidentState.ACKNOWLEDGED, IncidentState.MITIGATED, True),
        (IncidentState.MITIGATED, IncidentState.RESOLVED, True),
        (IncidentState.RESOLVED, IncidentState.TRIGGERED, True),
        (IncidentState.RESOLVED, IncidentState.ACKNOWLEDGED, False),
        (IncidentState.ACKNOWLEDGED, IncidentState.ACKNOWLEDGED, False),
    ],
)
def test_state_machine(start: IncidentState, target: IncidentState, allowed: bool) -> None:
    journal = MemoryJournal()
    journal.record(make_signal("a1"))
    incident = journal.tables.incidents["INC-1"].model_copy(update={"state": start})
    if allowed:
        change = incidents.change_state(incident, target, at(1), "test")
        assert (change.KIND, change.state) == ("incident.state_changed", target.value)
    else:
        with pytest.raises(incidents.TransitionError, match="cannot become"):
            incidents.change_state(incident, target, at(1), "test")


def test_notice_after_resolve_does_not_reopen() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("pd:1", source="pagerduty"))
    journal.record(make_signal("pd:1", status=SignalStatus.RESOLVED, minute=10, source="pagerduty"))
    assert journal.record(
        make_signal("pd:1", status=SignalStatus.NOTICE, minute=20, source="pagerduty")
    ) == ["INC-1"]
    incident = journal.tables.incidents["INC-1"]
    assert incident.state is IncidentState.RESOLVED
    assert incident.signal_count == 3


def test_first_seen_acknowledged_opens_acknowledged() -> None:
    journal = MemoryJournal()
    journal.record(make_signal("pd:9", status=SignalStatus.ACKNOWLEDGED, source="pagerduty"))
    assert journal.tables.incidents["INC-1"].state is IncidentState.ACKNOWLEDGED
