"""Is the pipeline alive? The facts the header and ``oncall-tui status`` show, judged.

Pure: the store gathers the facts (each source's newest delivery, who holds the export lease,
the receiver's backlog), this module decides what is wrong with them. The same judgement
serves the dashboard's header and the exit code of ``oncall-tui status``, so a script and the
engineer never disagree about whether something needs a look.

What counts as wrong (and sets ``status``'s exit code to 1):

- a configured source whose newest delivery is older than its silence threshold: alerts may
  be piling up in a sender that can no longer reach us;
- nobody holding the export lease while agent sessions are active: their context files and
  hooks serve a story that no longer moves.

A source that has never delivered is shown as ``never`` but not judged: a fresh setup, or a
sender with nothing to say yet, is not an outage. A source that delivered without being
configured (loopback needs no credentials) is shown for information and never judged either:
nobody said how often to expect it. Hook errors and the backlog are shown, not judged: errors
stay in the 24-hour count long after their cause is fixed, and a backlog drains by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oncall_tui.core.clock import age, iso


@dataclass(frozen=True)
class SourceExpectation:
    """A source the configuration names, and how long it may stay quiet."""

    name: str
    silence_s: float
    polled: bool = False
    """Fetched by a poller (``[pollers.X]``) rather than, or beside, webhooks."""


@dataclass(frozen=True)
class SourceHealth:
    name: str
    last_delivery_at: datetime | None
    """The newest delivery's latest attempt (a re-sent, unchanged payload counts)."""
    age_s: float | None
    """Seconds since ``last_delivery_at``; None when the source never delivered."""
    silence_s: float | None
    """The threshold; None for a source nobody configured (shown, never judged)."""
    polled: bool = False

    @property
    def configured(self) -> bool:
        return self.silence_s is not None

    @property
    def silent(self) -> bool:
        """Quiet for longer than its threshold (see the module docstring for what is not)."""
        return self.silence_s is not None and self.age_s is not None and self.age_s > self.silence_s

    def age_label(self, now: datetime) -> str:
        """``12s``, ``3m``, ``2h``; ``never`` when nothing came yet."""
        return "never" if self.last_delivery_at is None else age(self.last_delivery_at, now)


@dataclass(frozen=True)
class Exporter:
    """Who keeps the context files current: the holder of the export lease."""

    program: str
    """``serve`` or ``dashboard``."""
    host: str
    pid: int

    @property
    def label(self) -> str:
        return f"{self.program}@{self.host}"


@dataclass(frozen=True)
class PipelineHealth:
    now: datetime
    sources: tuple[SourceHealth, ...]
    policy_mode: str
    """``observe``, ``approve`` or ``auto``."""
    exporter: Exporter | None
    """None: nobody exports."""
    agent_errors: int
    """Internal errors the hooks and MCP servers logged in the last 24 h."""
    backlog: int
    """Deliveries stored but not yet folded into signals."""
    active_sessions: int

    @property
    def silent_sources(self) -> tuple[SourceHealth, ...]:
        return tuple(s for s in self.sources if s.silent)

    @property
    def unexported(self) -> bool:
        """Sessions are active and nobody writes what they read."""
        return self.exporter is None and self.active_sessions > 0

    def problems(self) -> list[str]:
        """What is wrong, one sentence each; empty when all is well."""
        found = [
            f"{s.name}: no delivery for {s.age_label(self.now)} (silence threshold"
            f" {int(s.silence_s or 0)}s)"
            for s in self.silent_sources
        ]
        if self.unexported:
            sessions = "session is" if self.active_sessions == 1 else "sessions are"
            found.append(
                f"nobody exports context while {self.active_sessions} {sessions} active"
                " (run `oncall-tui serve` or the dashboard)"
            )
        return found

    @property
    def ok(self) -> bool:
        return not self.problems()

    def as_json(self) -> dict[str, Any]:
        """The stable ``status --json`` document: keys are only ever added, never renamed."""
        return {
            "ok": self.ok,
            "now": iso(self.now),
            "problems": self.problems(),
            "policy_mode": self.policy_mode,
            "sources": [
                {
                    "name": s.name,
                    "configured": s.configured,
                    "polled": s.polled,
                    "last_delivery_at": iso(s.last_delivery_at) if s.last_delivery_at else None,
                    "age_s": None if s.age_s is None else round(s.age_s, 3),
                    "silence_s": s.silence_s,
                    "silent": s.silent,
                }
                for s in self.sources
            ],
            "exporter": None
            if self.exporter is None
            else {
                "program": self.exporter.program,
                "host": self.exporter.host,
                "pid": self.exporter.pid,
            },
            "agent_errors_24h": self.agent_errors,
            "backlog": self.backlog,
            "active_sessions": self.active_sessions,
        }


def assess(
    expected: Iterable[SourceExpectation],
    last_deliveries: Mapping[str, datetime],
    now: datetime,
    *,
    policy_mode: str,
    exporter: Exporter | None,
    agent_errors: int = 0,
    backlog: int = 0,
    active_sessions: int = 0,
) -> PipelineHealth:
    """Judge the gathered facts. Configured sources come first in the order given, then those
    that delivered without being configured, by name."""
    sources = []
    named = set()
    for expectation in expected:
        named.add(expectation.name)
        sources.append(
            _source(
                expectation.name,
                last_deliveries.get(expectation.name),
                now,
                expectation.silence_s,
                expectation.polled,
            )
        )
    for name in sorted(set(last_deliveries) - named):
        sources.append(_source(name, last_deliveries[name], now, None, False))
    return PipelineHealth(
        now=now,
        sources=tuple(sources),
        policy_mode=policy_mode,
        exporter=exporter,
        agent_errors=agent_errors,
        backlog=backlog,
        active_sessions=active_sessions,
    )


def _source(
    name: str, last: datetime | None, now: datetime, silence_s: float | None, polled: bool
) -> SourceHealth:
    # A sender's clock slightly ahead of ours must not read as a negative age.
    age_s = None if last is None else max((now - last).total_seconds(), 0.0)
    return SourceHealth(name, last, age_s, silence_s, polled)
