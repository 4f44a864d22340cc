"""Every journal kind (:class:`Kind`, the ``kind`` column) and the families and sets of them
that readers filter by. Apart from the bodies (:mod:`oncall_tui.core.journal`), which import
the models, so that a reader that filters by kind need not."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a journal entry records. The value is the ``kind`` column, stable on disk."""

    SIGNAL_RECORDED = "signal.recorded"
    DELIVERY_ACCEPTED = "delivery.accepted"
    DELIVERY_REJECTED = "delivery.rejected"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_SIGNAL_ATTACHED = "incident.signal_attached"
    INCIDENT_STATE_CHANGED = "incident.state_changed"
    INCIDENT_FREEZE_CHANGED = "incident.freeze_changed"
    CHANGE_LINKED = "change.linked"
    CATALOG_LOADED = "catalog.loaded"
    SESSION_REGISTERED = "session.registered"
    SESSION_SEEN = "session.seen"
    SESSION_ENDED = "session.ended"
    PUSH_PROPOSED = "push.proposed"
    PUSH_APPROVED = "push.approved"
    PUSH_REJECTED = "push.rejected"
    PUSH_SUPERSEDED = "push.superseded"
    PUSH_EXPIRED = "push.expired"
    PUSH_ACKNOWLEDGED = "push.acknowledged"
    CONTEXT_DELIVERED = "context.delivered"
    NOTE_ADDED = "note.added"
    NOTE_ACCEPTED = "note.accepted"
    NOTE_SUPERSEDED = "note.superseded"
    NOTE_REJECTED = "note.rejected"
    NOTE_RETIRED = "note.retired"
    EXPORT_FAILED = "export.failed"
    GUARD_DECIDED = "guard.decided"
    GUARD_ALLOWED = "guard.allowed"
    COMMIT_RECORDED = "commit.recorded"
    DEPLOY_RANGE_RESOLVED = "deploy.range_resolved"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"

    @property
    def family(self) -> str:
        """What the entry is about: ``push``, ``session``, ``incident``..."""
        return self.value.partition(".")[0]


def _family(name: str) -> frozenset[Kind]:
    return frozenset(kind for kind in Kind if kind.family == name)


PUSH_KINDS = _family("push")
SESSION_KINDS = _family("session")
NOTE_KINDS = _family("note")

INCIDENT_KINDS = frozenset(
    {
        Kind.INCIDENT_OPENED,
        Kind.INCIDENT_SIGNAL_ATTACHED,
        Kind.INCIDENT_STATE_CHANGED,
        Kind.CHANGE_LINKED,
    }
)
"""The entries that build an incident and its links (each names an ``incident_id``)."""

CHANGING_NO_FILES = frozenset(
    {
        Kind.CONTEXT_DELIVERED,
        Kind.EXPORT_FAILED,
        Kind.DELIVERY_ACCEPTED,
        Kind.DELIVERY_REJECTED,
        Kind.SIGNAL_RECORDED,
        Kind.GUARD_DECIDED,
        Kind.GUARD_ALLOWED,
        Kind.COMMIT_RECORDED,
        Kind.DEPLOY_RANGE_RESOLVED,
        Kind.TOKEN_CREATED,
        Kind.TOKEN_REVOKED,
    }
)
"""Entries that change nothing in an agent's context files by themselves: the exporter writes
the first two, raw deliveries are bookkeeping, a signal matters once it is attached to an
incident, which is its own entry, and the edit guard's decisions and overrides are answered
to the agent by its hook, not written into its files."""

STORY_KINDS = frozenset(Kind) - {
    Kind.DELIVERY_ACCEPTED,
    Kind.DELIVERY_REJECTED,
    Kind.EXPORT_FAILED,
    Kind.INCIDENT_FREEZE_CHANGED,
    Kind.GUARD_ALLOWED,
    Kind.TOKEN_CREATED,
    Kind.TOKEN_REVOKED,
}
"""Every kind the fold of an incident's story (timeline, replay) reads: raw deliveries and the
exporter's own failures tell no part of it. A deploy freeze is left out as well: the story has
never replayed it (the live projection does fold it). An edit-guard override names a session,
not an incident: the story tells it through the ``allowed-after-ask`` decision it leads to."""
