"""What one agent session should know right now: the input of the context renderers.

Built by :mod:`oncall_tui.core.context.assemble` from rows the store or replay fetched; rendered
purely by :mod:`oncall_tui.core.context.render`. Holding it as plain data keeps rendering testable
and identical for files, hook output and MCP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from oncall_tui.core.agents import AgentSession, Note, Push
from oncall_tui.core.models import Incident, Link, StoredSignal


@dataclass(frozen=True)
class IncidentContext:
    """One active incident that concerns the session, through its live push(es)."""

    incident: Incident
    push: Push | None
    """The live update push for this session, if any (a broadcast alone may bring it in)."""
    broadcasts: list[Push] = field(default_factory=list)
    changes: list[StoredSignal] = field(default_factory=list)
    """Suspect deploys/rollbacks linked to the incident."""
    signals: list[StoredSignal] = field(default_factory=list)
    """Recent signals whose sender text (titles, descriptions) is shown as fenced data."""
    notice: Push | None = None
    """The pending update the session is told about as "being assessed", when none is approved."""
    owners: list[str] = field(default_factory=list)
    """Owning teams of the degraded services, from the catalog."""
    runbooks: list[Link] = field(default_factory=list)
    """The degraded services' runbooks, from the catalog (sender links stay in the fence)."""
    contact: str | None = None
    """Who the on-call engineer is: the human who approved the guidance, or the configured one."""

    @property
    def pushes(self) -> list[Push]:
        """The approved pushes shown: the update and the broadcasts."""
        return ([self.push] if self.push else []) + self.broadcasts

    @property
    def carried(self) -> list[Push]:
        """Every push whose words the document carries for this incident, the notice included."""
        return self.pushes + ([self.notice] if self.notice else [])


@dataclass(frozen=True)
class SessionContext:
    session: AgentSession
    incidents: list[IncidentContext]
    notes: list[Note]
    stand_downs: list[Push]
    """Live stand-downs: said once through hooks and MCP; files simply stop naming the incident."""
    seq: int
    """The journal position this view reflects."""
    generated_at: datetime
    """Time of the newest entry that shaped this view (not the wall clock: same state, same bytes)."""
    still_concerned: list[str] = field(default_factory=list)
    """Active incidents that concern the session: a stand-down names them rather than lift all."""
    awaiting_review: list[Note] = field(default_factory=list)
    """Notes this agent (this session or an earlier one of it) proposed that the engineer has
    not decided on: agent text, shown back as data in a list of its own."""

    @property
    def push_ids(self) -> list[str]:
        """What a delivery of this document carries (a file leaves the stand-downs out)."""
        ids = [p.id for ic in self.incidents for p in ic.carried]
        return ids + [p.id for p in self.stand_downs]
