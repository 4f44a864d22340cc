"""Decisions on pushes: approve, reject, edit (a new version), broadcast, acknowledge, deliver."""

from __future__ import annotations

from oncall_tui.actions import Rules, find_incident
from oncall_tui.core.agents import AgentSession, Push, PushKind, PushState, SessionState
from oncall_tui.core.decided import already_decided
from oncall_tui.core.journal import (
    ContextDelivered,
    PushAcknowledged,
    PushProposed,
    PushRejected,
    PushSuperseded,
)
from oncall_tui.core.models import Incident
from oncall_tui.core.pushes import approval_events, push_id
from oncall_tui.core.sanitize import clean, identifier
from oncall_tui.core.urls import without_userinfo
from oncall_tui.store.journal import Store, Writer
from oncall_tui.store.queries import NotFoundError

MAX_GUIDANCE = 8000


class ActionError(ValueError):
    """The action does not apply (wrong state, observe mode, missing reason)."""


def _push(writer: Writer, push_ref: str) -> Push:
    ref = push_ref.upper()
    push = writer.tables.get_push(ref if ref.startswith("P-") else f"P-{ref}")
    if push is None:
        raise NotFoundError(f"no push {push_ref}")
    return push


def _refuse_in_observe(rules: Rules) -> None:
    if rules.policy.mode == "observe":
        raise ActionError("policy mode is observe: pushes are proposed and shown, never delivered")


def _refuse_decided(writer: Writer, push: Push) -> None:
    """Someone decided it first (another dashboard, the CLI): say who and when. The write
    transaction holds the lock, so of two engineers deciding at once exactly one gets here
    after the other, and sees the other's decision."""
    if push.state is PushState.PENDING:
        return
    successor = writer.tables.get_push(push.superseded_by) if push.superseded_by else None
    raise ActionError(already_decided(push, writer.clock.now(), successor))


def _live_versions(writer: Writer, push: Push) -> list[Push]:
    # The session's own pushes alone: every push the incident ever gave is one parse each.
    sessions = None if push.session_id is None else [push.session_id]
    return [
        p
        for p in writer.tables.pushes_for_incident(push.incident_id, sessions)
        if p.session_id == push.session_id and p.kind is not PushKind.BROADCAST and p.state.is_live
    ]


def approve(store: Store, push_ref: str, by: str, rules: Rules) -> Push:
    with store.write(durable=True) as writer:
        push = _push(writer, push_ref)
        _refuse_in_observe(rules)
        _refuse_decided(writer, push)
        incident = writer.tables.get_incident(push.incident_id)
        if push.kind is PushKind.UPDATE and incident is not None and not incident.is_active:
            raise ActionError(f"{incident.id} is resolved; approve its stand-down instead")
        for event in approval_events(push, _live_versions(writer, push), by):
            writer.append(event, actor=by)
        return _push(writer, push.id)


def reject(store: Store, push_ref: str, by: str, reason: str) -> Push:
    if not reason.strip():
        raise ActionError("a reason is required to reject a push")
    with store.write(durable=True) as writer:
        push = _push(writer, push_ref)
        _refuse_decided(writer, push)
        writer.append(PushRejected(push.id, by, clean(reason, 500)), actor=by)
        return _push(writer, push.id)


def check_editable(store: Store, push: Push) -> None:
    """Refuse at once what :func:`edit` would refuse, before the engineer writes the new text."""
    _refuse_edit(push, store.tables().get_incident(push.incident_id))


def _refuse_edit(push: Push, incident: Incident | None) -> None:
    if not (push.state.is_open or push.state.is_live):
        raise ActionError(f"{push.id} is {push.state.value}; it can no longer be edited")
    if push.kind is not PushKind.STAND_DOWN and incident is not None and not incident.is_active:
        # Its new version could never be approved (approve refuses updates of a resolved
        # incident) and would wait as pending for ever.
        raise ActionError(
            f"{incident.id} is resolved, so {push.id} can no longer be edited:"
            " agents now hear its stand-down (edit or approve that instead)"
        )


def edit(store: Store, push_ref: str, by: str, guidance: str) -> Push:
    """Save the engineer's text as a new version (pending); the agent keeps the old one until then."""
    text = clean(guidance, MAX_GUIDANCE).strip()
    if not text:
        raise ActionError("the edited text is empty")
    with store.write(durable=True) as writer:
        push = _push(writer, push_ref)
        if push.state is PushState.SUPERSEDED:
            _refuse_decided(writer, push)  # another engineer's edit came first
        _refuse_edit(push, writer.tables.get_incident(push.incident_id))
        if text == push.guidance:
            raise ActionError("nothing changed")
        number = writer.tables.next_push_number()
        edited = push.model_copy(
            update={
                "id": push_id(number),
                "number": number,
                "version": push.version + 1,
                "state": PushState.PENDING,
                "trigger": f"edited by {by}",
                "guidance": text,
                "edited_by": by,
                "proposed_at": store.clock.now(),
                "supersedes": push.id,
                "decided_at": None,
                "decided_by": None,
                "delivered_at": None,
                "delivered_via": [],
                "acknowledged_at": None,
                "auto_approved_by": None,
                "live_seq": None,
            }
        )
        writer.append(PushProposed(edited), actor=by)
        if push.state.is_open:
            writer.append(PushSuperseded(push.id, edited.id), actor=by)
        return edited


def broadcast_audience(store: Store, rules: Rules, repo: str | None = None) -> list[AgentSession]:
    """Who a broadcast would reach now: every session not ended (in ``repo``, if given)."""
    now = store.clock.now()
    sessions = store.tables().open_sessions()
    return [
        s
        for s in sessions
        if s.state(now, rules.timing.idle_after, rules.timing.end_after) is not SessionState.ENDED
        and (repo is None or (s.repo or "").lower() == without_userinfo(repo).lower())
    ]


def broadcast(
    store: Store, incident_id: str, message: str, by: str, rules: Rules, repo: str | None = None
) -> Push:
    """An engineer's message to every active session; sending it is the engineer's approval."""
    text = clean(message, MAX_GUIDANCE).strip()
    if not text:
        raise ActionError("a broadcast needs a message")
    repo = without_userinfo(repo) if repo else None  # the audience is journaled
    _refuse_in_observe(rules)
    recipients = [s.id for s in broadcast_audience(store, rules, repo)]
    if not recipients:
        raise ActionError("no active sessions to broadcast to" + (f" in {repo}" if repo else ""))
    with store.write(durable=True) as writer:
        incident = find_incident(writer, incident_id)
        if not incident.is_active:
            raise ActionError(f"{incident.id} is resolved")
        number = writer.tables.next_push_number()
        push = Push(
            id=push_id(number),
            number=number,
            incident_id=incident.id,
            session_id=None,
            audience=f"repo:{identifier(repo)}" if repo else "all",
            kind=PushKind.BROADCAST,
            trigger=f"broadcast by {by}",
            reason="broadcast to "
            + (f"every session in {identifier(repo)}" if repo else "every active session"),
            services=incident.services,
            guidance=text,
            proposed_at=store.clock.now(),
            recipients=recipients,
        )
        writer.append(PushProposed(push), actor=by)
        for event in approval_events(push, [], by):
            writer.append(event, actor=by)
        return _push(writer, push.id)


def acknowledge(store: Store, push_ref: str, by: str) -> Push:
    with store.write(durable=True) as writer:
        push = _push(writer, push_ref)
        if not push.state.is_live:
            raise ActionError(
                f"{push.id} is {push.state.value}; only delivered context can be acknowledged"
            )
        writer.append(PushAcknowledged(push.id, by), actor=by)
        return _push(writer, push.id)


def record_delivery(
    store: Store, session_id: str, push_ids: list[str], channel: str, through_seq: int
) -> None:
    """The session received its context through ``channel`` (file, hook, mcp)."""
    with store.write() as writer:
        writer.append(
            ContextDelivered(session_id, push_ids, channel, through_seq),
            actor=f"agent:{session_id}",
        )
