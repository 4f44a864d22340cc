"""Push proposal, supersede, stand-down and policy — the engine on in-memory state."""

from __future__ import annotations

import pytest

from oncall_tui.core import pushes
from oncall_tui.core.agents import PushKind, PushState
from oncall_tui.core.journal import ContextDelivered, FreezeChanged, PushApproved
from oncall_tui.core.models import Severity, SignalKind, SignalStatus
from tests.factories import PAYMENTS_CATALOG, MemoryJournal, make_signal


@pytest.fixture
def journal() -> MemoryJournal:
    journal = MemoryJournal()
    journal.load_catalog(PAYMENTS_CATALOG)
    journal.register("direct", "acme/payments", ["services/processor/retry.py"])
    journal.register("dependent", "acme/payments", ["services/payments/client.py"])
    journal.register("transitive", "acme/checkout", ["web/cart.ts"])
    journal.register("unrelated", "acme/search", ["index.py"])
    journal.register("repo-only", "acme/payments", [])
    return journal


def _by_session(journal: MemoryJournal) -> dict[str, list[pushes.Push]]:
    found: dict[str, list[pushes.Push]] = {}
    for push in sorted(journal.tables.pushes.values(), key=lambda p: p.number):
        found.setdefault(push.session_id or "*", []).append(push)
    return found


def test_opening_proposes_one_push_per_affected_session_with_reasons(
    journal: MemoryJournal,
) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1")
    by_session = _by_session(journal)
    assert sorted(by_session) == ["dependent", "direct", "repo-only", "transitive"]
    assert (
        by_session["direct"][0].reason
        == "edits services/processor/retry.py → payment-processor (critical)"
    )
    assert by_session["dependent"][0].reason == (
        "edits services/payments/client.py → payments-api → depends on payment-processor (critical)"
    )
    assert "checkout" in by_session["transitive"][0].reason
    assert by_session["repo-only"][0].reason.startswith("works in acme/payments")
    assert all(
        p[0].state is PushState.PENDING and p[0].trigger == "incident opened"
        for p in by_session.values()
    )
    assert "Keep timeouts, retries and circuit breakers" in by_session["direct"][0].guidance


def test_reconcile_is_idempotent(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1")
    assert journal.reconcile("INC-1") == []


def test_material_change_supersedes_pending_version(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1", severity=Severity.WARNING))
    journal.reconcile("INC-1")
    journal.record(make_signal("a2", minute=1, severity=Severity.CRITICAL))
    kinds = journal.reconcile("INC-1", minute=1)
    assert kinds.count("push.superseded") == 4
    direct = _by_session(journal)["direct"]
    assert [p.state for p in direct] == [PushState.SUPERSEDED, PushState.PENDING]
    assert direct[1].trigger == "severity warning → critical"
    assert direct[1].version == 2 and direct[1].supersedes == direct[0].id


def test_suspect_deploy_is_a_material_change(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1")
    deploy = make_signal(
        "d1", kind=SignalKind.DEPLOY, status=SignalStatus.SUCCESS, minute=-3, source="github"
    )
    journal.record(deploy)
    journal.reconcile("INC-1", minute=1)
    latest = _by_session(journal)["direct"][-1]
    assert latest.trigger.startswith("suspect change: deploy payment-processor")
    assert "Suspect change at" in latest.guidance


def test_resolve_stands_down_told_sessions_and_expires_the_rest(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1")
    told = _by_session(journal)["direct"][0]
    journal.append(PushApproved(told.id, "alice"), "user:alice")
    journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=30))
    journal.reconcile("INC-1", minute=30)
    by_session = _by_session(journal)
    assert [p.kind for p in by_session["direct"]] == [PushKind.UPDATE, PushKind.STAND_DOWN]
    down = by_session["direct"][1]
    assert down.state is PushState.APPROVED, "stand-downs need no engineer by default"
    assert down.auto_approved_by == "stand-down"
    assert "is resolved" in down.guidance
    for other in ("dependent", "transitive", "repo-only"):
        # Their notice never reached them through a hook or MCP: nothing to stand down.
        assert [p.state for p in by_session[other]] == [PushState.EXPIRED]
    assert journal.reconcile("INC-1", minute=31) == []


def test_a_notice_read_at_a_prompt_is_stood_down_too(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1")
    (notice,) = _by_session(journal)["dependent"]
    assert notice.announced
    journal.append(ContextDelivered("dependent", [notice.id], "hook", 9), "agent:dependent")
    journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=30))
    journal.reconcile("INC-1", minute=30)
    assert [(p.kind, p.state) for p in _by_session(journal)["dependent"]] == [
        (PushKind.UPDATE, PushState.EXPIRED),
        (PushKind.STAND_DOWN, PushState.APPROVED),
    ]


def test_observe_mode_announces_nothing_so_stands_down_nobody(journal: MemoryJournal) -> None:
    policy = pushes.Policy(mode="observe")
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1", policy)
    assert not any(p.notice for p in journal.tables.pushes.values())
    journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=30))
    journal.reconcile("INC-1", policy, minute=30)
    kinds = {p.kind for p in journal.tables.pushes.values()}
    assert kinds == {PushKind.UPDATE}
    assert {p.state for p in journal.tables.pushes.values()} == {PushState.EXPIRED}


def test_stand_downs_wait_for_an_engineer_when_rules_are_set_to_none(
    journal: MemoryJournal,
) -> None:
    policy = pushes.Policy(auto_approve=())
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1", policy)
    told = _by_session(journal)["direct"][0]
    journal.append(PushApproved(told.id, "alice"), "user:alice")
    journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=30))
    journal.reconcile("INC-1", policy, minute=30)
    assert _by_session(journal)["direct"][1].state is PushState.PENDING


def test_auto_policy_rules(journal: MemoryJournal) -> None:
    policy = pushes.Policy(mode="approve", auto_approve=("severity>=critical", "stand-down"))
    journal.record(make_signal("a1", severity=Severity.WARNING))
    journal.reconcile("INC-1", policy)
    assert {p.state for p in journal.tables.pushes.values()} == {PushState.PENDING}
    journal.record(make_signal("a2", minute=1, severity=Severity.CRITICAL))
    journal.reconcile("INC-1", policy, minute=1)
    approved = [p for p in journal.tables.pushes.values() if p.state is PushState.APPROVED]
    assert len(approved) == 4
    assert {p.auto_approved_by for p in approved} == {"severity>=critical"}
    journal.record(make_signal("a1", status=SignalStatus.RESOLVED, minute=9))
    journal.record(make_signal("a2", status=SignalStatus.RESOLVED, minute=10))
    journal.reconcile("INC-1", policy, minute=10)
    stand_downs = [p for p in journal.tables.pushes.values() if p.kind is PushKind.STAND_DOWN]
    assert len(stand_downs) == 4 and {p.state for p in stand_downs} == {PushState.APPROVED}


def test_observe_mode_never_approves(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1", pushes.Policy(mode="observe", auto_approve=("all",)))
    assert {p.state for p in journal.tables.pushes.values()} == {PushState.PENDING}


def test_rate_limit_holds_auto_approval(journal: MemoryJournal) -> None:
    policy = pushes.Policy(mode="auto", rate_limit_per_hour=1)
    journal.record(make_signal("a1", severity=Severity.WARNING))
    journal.reconcile("INC-1", policy)
    journal.record(make_signal("a2", minute=1, severity=Severity.CRITICAL))
    journal.reconcile("INC-1", policy, minute=1)
    direct = _by_session(journal)["direct"]
    assert [p.state for p in direct] == [PushState.APPROVED, PushState.PENDING]


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(pushes.PolicyError, match="unknown auto-approve rule"):
        pushes.Policy(auto_approve=("everything",))


def test_new_session_in_the_radius_gets_a_push_later(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1")
    journal.register("late", "acme/payments", ["services/payments/api.py"], minute=5)
    journal.reconcile("INC-1", minute=5)
    assert _by_session(journal)["late"][0].trigger == "session now affected"


def test_declaring_a_deploy_freeze_is_a_material_change(journal: MemoryJournal) -> None:
    journal.record(make_signal("a1"))
    journal.reconcile("INC-1")
    journal.append(FreezeChanged("INC-1", True, "alice"), "user:alice")
    journal.reconcile("INC-1", minute=1)
    latest = _by_session(journal)["direct"][-1]
    assert latest.trigger == "deploy freeze declared"
    assert "Deploy freeze declared" in latest.guidance
