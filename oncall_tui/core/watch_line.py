"""The one line ``oncall-tui watch`` prints when a session has news: our own words only.

Each line reaches an agent's model as a notification (a Claude Code plugin monitor turns every
stdout line into one), outside any fence. So nothing a sender wrote may appear in it: the line
is built from identifiers we mint (``INC-n``, ``P-n``), a version number, a kind and severity
from closed sets, and a service name only when the catalog an engineer loaded defines it and
it is spelled like a name. Anything else is replaced by a placeholder, never quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from oncall_tui.core.models import Severity


class NewsKind(StrEnum):
    """What became news for the session."""

    UPDATE = "update"
    """An approved version of an incident's context for this session."""
    STAND_DOWN = "stand-down"
    """The incident resolved and the stand-down was approved."""
    BROADCAST = "broadcast"
    """An engineer's message to every active session, this one included."""
    NOTICE = "notice"
    """A pending update: the session is told an incident is being assessed, nothing more."""


@dataclass(frozen=True)
class WatchEvent:
    """One piece of news, as stored; :func:`watch_line` decides what of it may be shown."""

    seq: int
    """The journal seq at which it became news (approval, or proposal for a notice)."""
    push_id: str
    incident_id: str
    version: int
    kind: NewsKind
    severity: str | None
    service: str | None
    """The incident's service when the catalog names it, else None."""

    @property
    def key(self) -> tuple[str, int, NewsKind]:
        """What makes a line unique: a notice and the later approval of the same push differ."""
        return (self.push_id, self.version, self.kind)


_INCIDENT_ID = re.compile(r"^INC-[0-9]{1,9}$")
_PUSH_ID = re.compile(r"^P-[0-9]{1,9}$")
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_SEVERITIES = frozenset(s.value for s in Severity)
_ADVICE = {
    NewsKind.UPDATE: "read your context",
    NewsKind.STAND_DOWN: "incident resolved, read your context before resuming",
    NewsKind.BROADCAST: "message from the on-call engineer, read your context",
    NewsKind.NOTICE: "being assessed by the on-call engineer, read your context",
}


def watch_line(event: WatchEvent, session_id: str) -> str:
    """``INC-1 P-3 v2 update critical payment-processor: read your context (oncall-tui context
    SESSION)``. ``session_id`` must be a validated session id (the caller checked it)."""
    incident = event.incident_id if _INCIDENT_ID.match(event.incident_id) else "INC-?"
    push = event.push_id if _PUSH_ID.match(event.push_id) else "P-?"
    severity = event.severity if event.severity in _SEVERITIES else "unknown-severity"
    service = event.service if event.service and _SERVICE.match(event.service) else "-"
    version = max(event.version, 1)
    return (
        f"{incident} {push} v{version} {event.kind.value} {severity} {service}:"
        f" {_ADVICE[event.kind]} (oncall-tui context {session_id})"
    )
