"""Scripted scenarios: the demo incident, played step by step through the real code paths.

A scenario is a TOML file of steps (register sessions, ingest a real-format payload, approve
pushes). Payload times are moved so each step's original ``at`` becomes the moment it plays,
which keeps ages and timelines meaningful however fast the story is told.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from oncall_tui.actions import Rules
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions import sessions as session_actions
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.config import Settings
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import FixedClock, from_iso
from oncall_tui.ingest.record import Ingestor
from oncall_tui.sources.base import parse_time
from oncall_tui.store.journal import Store

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
DEMO_SCENARIO = SAMPLE_DATA / "scenario" / "demo.toml"
DEMO_ACTOR = "user:demo-oncall"

_TIMESTAMP = re.compile(rb'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))"')


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    after_s: float
    say: str
    at: datetime | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    ingest: dict[str, Any] | None = None
    approve: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    path: Path
    catalog: Path | None
    steps: list[Step]

    @property
    def duration_s(self) -> float:
        return max((s.after_s for s in self.steps), default=0.0)


def load_scenario(path: Path = DEMO_SCENARIO) -> Scenario:
    if not path.exists():
        raise ScenarioError(f"scenario not found: {path} (run from a checkout of oncall-tui)")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    steps = []
    for raw in data.get("steps", []):
        at = raw.get("at")
        steps.append(
            Step(
                after_s=float(raw.get("after_s", 0)),
                say=str(raw.get("say", "")),
                at=from_iso(at) if at else None,
                sessions=list(raw.get("sessions", [])),
                ingest=raw.get("ingest"),
                approve=list(raw.get("approve", [])),
            )
        )
    catalog = data.get("catalog")
    return Scenario(
        path,
        (path.parent / catalog).resolve() if catalog else None,
        sorted(steps, key=lambda s: s.after_s),
    )


class TimeMap:
    """Maps the story's times onto the demo's clock, monotonically.

    Steps with an ``at`` are anchors (story time → seconds into the demo); times between
    anchors are interpolated, times outside them extrapolated. Being a function of the original
    time alone, it moves a firing and its resolve identically, so alert identities that include
    a start time still match.
    """

    def __init__(self, steps: list[Step], start: datetime) -> None:
        self.anchors = sorted((s.at, s.after_s) for s in steps if s.at is not None)
        self.start = start

    def __call__(self, when: datetime) -> datetime:
        anchors = self.anchors
        if not anchors:
            return when
        if len(anchors) == 1:
            return self.start + timedelta(seconds=anchors[0][1]) + (when - anchors[0][0])
        index = next((i for i in range(1, len(anchors)) if when <= anchors[i][0]), len(anchors) - 1)
        (t0, s0), (t1, s1) = anchors[index - 1], anchors[index]
        span = (t1 - t0).total_seconds() or 1.0
        offset = s0 + (when - t0).total_seconds() * (s1 - s0) / span
        return self.start + timedelta(seconds=offset)


def shift_times(body: bytes, time_map: Callable[[datetime], datetime]) -> bytes:
    """Move every RFC 3339 timestamp in a JSON body through ``time_map`` (Go's zero time stays)."""

    def move(match: re.Match[bytes]) -> bytes:
        text = match.group(1).decode()
        if text.startswith("0001-01-01"):
            return match.group(0)
        moved = time_map(parse_time(text))
        return b'"' + moved.strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode() + b'"'

    return _TIMESTAMP.sub(move, body)


class ScenarioPlayer:
    """Plays steps against a store through the same actions a real deployment uses."""

    def __init__(
        self, scenario: Scenario, store: Store, settings: Settings, start: datetime
    ) -> None:
        """``start`` is the demo's second zero; a start in the past plays a story already told."""
        self.scenario = scenario
        self.time_map = TimeMap(scenario.steps, start)
        self.store = store
        self.rules = Rules.from_settings(settings)
        self.ingestor = Ingestor(store, settings)

    def prepare(self) -> None:
        if self.scenario.catalog is not None:
            load_catalog_file(self.store, self.rules, self.scenario.catalog, DEMO_ACTOR)

    def play(self, step: Step) -> None:
        for raw in step.sessions:
            session_actions.register(
                self.store,
                self.rules,
                raw["id"],
                agent=AgentKind(raw.get("agent", "other")),
                repo=raw.get("repo"),
                branch=raw.get("branch"),
                task=raw.get("task", ""),
                paths=list(raw.get("paths", [])),
            )
        if step.ingest is not None:
            self._ingest(step)
        for session_id in step.approve:
            for push in self.store.tables().pending_pushes_for_session(session_id):
                push_actions.approve(self.store, push.id, DEMO_ACTOR, self.rules)

    def _ingest(self, step: Step) -> None:
        assert step.ingest is not None
        body = (self.scenario.path.parent / step.ingest["file"]).read_bytes()
        body = shift_times(body, self.time_map)
        headers = {str(k): str(v) for k, v in step.ingest.get("headers", {}).items()}
        result = self.ingestor.ingest(step.ingest["source"], body, headers, verify="none")
        if result.status == "rejected":
            raise ScenarioError(f"{step.ingest['file']}: {result.reason}")

    def play_all(
        self, on_step: Callable[[Step], None] | None = None, *, clock: FixedClock | None = None
    ) -> None:
        """Every step at once. With ``clock`` (the store's), each step is written at its own
        moment of the story, so the timeline shows the minutes between them, not zero."""
        self.prepare()
        for step in self.scenario.steps:
            if clock is not None:
                clock.set(self.time_map.start + timedelta(seconds=step.after_s))
            self.play(step)
            if on_step is not None:
                on_step(step)
