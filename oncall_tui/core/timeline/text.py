"""One short line per journal entry, for the replay list and the exported timeline.

Built from structured fields; any text a sender, an agent or an engineer typed (alert titles,
reasons, tasks, notes) passes through :func:`~oncall_tui.core.sanitize.display_text`, so a line
never carries an escape sequence or a newline, and is capped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from oncall_tui.core.guidance import change_summary
from oncall_tui.core.journal import (
    ChangeLinked,
    CommitRecorded,
    ContextDelivered,
    DeployRangeResolved,
    GuardDecided,
    GuardDecision,
    GuardTool,
    IncidentOpened,
    JournalBody,
    JournalEntry,
    NoteAdded,
    PushAcknowledged,
    PushApproved,
    PushExpired,
    PushProposed,
    PushRejected,
    PushSuperseded,
    SessionEnded,
    SessionRegistered,
    SessionSeen,
    SignalAttached,
    SignalRecorded,
    StateChanged,
)
from oncall_tui.core.models import Signal
from oncall_tui.core.sanitize import display_text

TEXT_LIMIT = 160
FILE_CHANNEL = "file"
"""The exporter's channel: the document was written to a file, which proves no one read it."""


@dataclass
class Names:
    """What a line needs to name things: filled by the timeline as it reads the rows."""

    pushes: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    """Push id → (session id or None for a broadcast, push kind)."""
    mine: set[str] = field(default_factory=set)
    """Ids of the incident's own pushes."""
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Linked deploys and rollbacks (signal id → signal body)."""
    repeats: dict[int, int] = field(default_factory=dict)
    """Deliveries of a document version already delivered (seq → seq of its first delivery)."""
    notices: set[int] = field(default_factory=set)
    """Deliveries that carried the incident only as a pending push's "being assessed" notice."""

    def push(self, push_id: object) -> str:
        session, kind = self.pushes.get(str(push_id), (None, "?"))
        target = f"for {session}" if session else kind
        return f"{display_text(push_id, 40)} ({target})"


def describe(entry: JournalEntry, names: Names) -> str:
    """The line for ``entry``; unknown kinds are named by their kind alone."""
    body = entry.data
    handler = _DESCRIBE.get(type(body)) if body is not None else None
    line = handler(body, names, entry.actor) if handler else entry.kind
    if entry.seq in names.notices:
        line += " (only the notice that the incident is being assessed)"
    first = names.repeats.get(entry.seq)
    return line if first is None else f"{line} again (same version as #{first})"


def _text(value: object, limit: int = TEXT_LIMIT) -> str:
    return display_text(value, limit)


def _signal(body: SignalRecorded, names: Names, actor: str) -> str:
    signal = body.signal
    if signal.kind.is_change:
        return f"{change_summary(signal)} ({signal.status.value}, {signal.source})"
    where = f" on {_text(signal.service, 80)}" if signal.service else ""
    return (
        f"{signal.source} {signal.kind.value} {signal.status.value}{where}"
        f" ({signal.severity.value}): {_text(signal.title)}"
    )


def _opened(body: IncidentOpened, names: Names, actor: str) -> str:
    where = f" on {_text(body.service, 80)}" if body.service else ""
    return f"{body.incident_id} opened{where} ({body.severity}): {_text(body.title)}"


def _attached(body: SignalAttached, names: Names, actor: str) -> str:
    return f"signal {body.signal_id} joined {body.incident_id}"


def _state(body: StateChanged, names: Names, actor: str) -> str:
    reason = f": {_text(body.reason)}" if body.reason else ""
    return f"{body.incident_id} {body.state}{reason}"


def _linked(body: ChangeLinked, names: Names, actor: str) -> str:
    change = names.changes.get(int(body.signal_id))
    what = (
        change_summary(Signal.model_validate(change))
        if change is not None
        else f"signal {body.signal_id}"
    )
    return f"{body.relation} change linked to {body.incident_id}: {what}"


def _proposed(body: PushProposed, names: Names, actor: str) -> str:
    push = body.push
    target = push.session_id or f"audience {push.audience or 'all'}"
    return (
        f"{push.id} v{push.version} ({push.kind.value}) proposed for {_text(target, 130)}:"
        f" {_text(push.trigger, 80)}"
    )


def _approved(body: PushApproved, names: Names, actor: str) -> str:
    rule = f" (rule {_text(body.rule, 40)})" if body.rule else ""
    return f"{names.push(body.push_id)} approved by {_text(body.by or actor, 80)}{rule}"


def _rejected(body: PushRejected, names: Names, actor: str) -> str:
    by = _text(body.by or actor, 80)
    return f"{names.push(body.push_id)} rejected by {by}: {_text(body.reason)}"


def _superseded(body: PushSuperseded, names: Names, actor: str) -> str:
    return f"{names.push(body.push_id)} superseded by {_text(body.by_push, 40)}"


def _expired(body: PushExpired, names: Names, actor: str) -> str:
    return f"{names.push(body.push_id)} expired: {_text(body.reason, 80)}"


def _acknowledged(body: PushAcknowledged, names: Names, actor: str) -> str:
    return f"{names.push(body.push_id)} acknowledged by {_text(body.by or actor, 80)}"


def _delivered(body: ContextDelivered, names: Names, actor: str) -> str:
    return delivery_line(body.push_ids, body.session_id, body.channel)


def delivery_line(
    push_ids: Sequence[str],
    session_id: str,
    channel: str,
    count: int = 1,
    span: tuple[datetime, datetime] | None = None,
) -> str:
    """How a document reached a session, in words that keep a file write apart from a read.

    ``count`` reads of the same version between ``span``'s two times make one line: an agent
    polling MCP would otherwise bury the story under identical rows.
    """
    pushes = ", ".join(_text(p, 40) for p in push_ids)
    session = _text(session_id, 130)
    times = f" {count} times" if count > 1 else ""
    when = f", {span[0]:%H:%M}-{span[1]:%H:%M}" if count > 1 and span else ""
    if channel == FILE_CHANNEL:
        return f"{pushes} delivered to file for {session}{times}{when}"
    if channel == "hook":
        return f"{pushes} printed to {session} by the hook{times}{when}"
    if channel == "mcp":
        return f"{pushes} read{times} by {session} through MCP{when}"
    return f"{pushes} delivered to {session} via {_text(channel, 20)}{times}{when}"


def _registered(body: SessionRegistered, names: Names, actor: str) -> str:
    session = body.session
    repo = f" in {_text(session.repo, 80)}" if session.repo else ""
    task = f": {_text(session.task, 80)}" if session.task else ""
    how = f", {_text(session.source, 20)}" if session.source else ""
    return f"session {session.id} registered ({session.agent.value}{repo}{how}){task}"


def _seen(body: SessionSeen, names: Names, actor: str) -> str:
    paths = body.paths or []
    touched = f", touched {_text(', '.join(paths[-3:]), 120)}" if paths else ""
    return f"session {body.session_id} seen{touched}"


def _ended(body: SessionEnded, names: Names, actor: str) -> str:
    return f"session {body.session_id} ended"


def _note(body: NoteAdded, names: Names, actor: str) -> str:
    note = body.note
    return f"note {note.id} ({note.kind.value}) by {_text(note.author, 80)}: {_text(note.text)}"


_GUARD_VERBS: dict[str, str] = {
    GuardDecision.ASKED: "asked before",
    GuardDecision.DENIED: "was stopped before",
    GuardDecision.ALLOWED_AFTER_ASK: "was allowed, after asking,",
}
_GUARD_ACTIONS: dict[str, str] = {
    GuardTool.EDIT: "editing",
    GuardTool.PATCH: "patching",
    GuardTool.SHELL: "a shell write to",
}
GUARD_PATHS_SHOWN = 3


def _guard(body: GuardDecided, names: Names, actor: str) -> str:
    """``s-1 asked before editing services/processor/retry.py (payment-processor, INC-1)``."""
    verb = _GUARD_VERBS.get(body.decision) or _text(body.decision, 40)
    action = _GUARD_ACTIONS.get(body.tool, "writing")
    shown = ", ".join(_text(p, 120) for p in body.paths[:GUARD_PATHS_SHOWN])
    hidden = len(body.paths) - GUARD_PATHS_SHOWN
    more = f" and {hidden} more" if hidden > 0 else ""
    where = f"{_text(body.service, 80)}, {_text(body.incident_id, 40)}"
    return f"{_text(body.session_id, 130)} {verb} {action} {shown}{more} ({where})"


SHORT_SHA = 7
"""As ``git log --oneline`` abbreviates a sha."""


def _commit(body: CommitRecorded, names: Names, actor: str) -> str:
    """``commit a1b2c3d by cc-1 (claude-code) in acme/payments: Drop the timeout``."""
    commit = body.commit
    who = _text(commit.session_id, 130) if commit.session_id else "no session"
    kind = f" ({_text(commit.agent, 40)})" if commit.agent else ""
    return (
        f"commit {_text(commit.sha[:SHORT_SHA], 12)} by {who}{kind} in {_text(commit.repo, 100)}:"
        f" {_text(commit.subject)}"
    )


def _range(body: DeployRangeResolved, names: Names, actor: str) -> str:
    """``deploy 7d1e5a9 to payments-api shipped 2 commits since 9f4c2e1 (git)``."""
    deploy = body.deploy
    since = (
        f" since {_text(deploy.previous_sha[:SHORT_SHA], 12)}"
        if deploy.previous_sha
        else " (first deploy seen)"
    )
    count = len(deploy.shas)
    return (
        f"deploy {_text(deploy.sha[:SHORT_SHA], 12)} of {_text(deploy.repo, 100)} to"
        f" {_text(deploy.service, 80)} shipped {count} commit{'' if count == 1 else 's'}{since}"
        f" ({_text(deploy.via, 20)})"
    )


BodyT = TypeVar("BodyT", bound=JournalBody)
Describer = Callable[[Any, Names, str], str]
_DESCRIBE: dict[type[JournalBody], Describer] = {}


def _describe(body_class: type[BodyT], describer: Callable[[BodyT, Names, str], str]) -> None:
    """One call per class: the type checker refuses a describer written for another body."""
    _DESCRIBE[body_class] = describer


_describe(SignalRecorded, _signal)
_describe(IncidentOpened, _opened)
_describe(SignalAttached, _attached)
_describe(StateChanged, _state)
_describe(ChangeLinked, _linked)
_describe(PushProposed, _proposed)
_describe(PushApproved, _approved)
_describe(PushRejected, _rejected)
_describe(PushSuperseded, _superseded)
_describe(PushExpired, _expired)
_describe(PushAcknowledged, _acknowledged)
_describe(ContextDelivered, _delivered)
_describe(SessionRegistered, _registered)
_describe(SessionSeen, _seen)
_describe(SessionEnded, _ended)
_describe(NoteAdded, _note)
_describe(GuardDecided, _guard)
_describe(CommitRecorded, _commit)
_describe(DeployRangeResolved, _range)
