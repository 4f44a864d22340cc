"""The two report documents, as published JSON shapes (``report schema regressions|agents``).

``schema`` is the shape's version: a tool reading the JSON checks it before trusting the keys.
Times are UTC ISO 8601; durations are seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oncall_tui.core.regressions import (
    AgentAssisted,
    JoinInputs,
    WeekRow,
    find_regressions,
    weekly,
)
from oncall_tui.core.reports.readiness import AgentReadiness, readiness

SCHEMA_VERSION: Literal["1"] = "1"


class RegressionReport(BaseModel):
    """``report regressions``: the agent-assisted incidents of a window, and the weekly series."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["1"] = Field(default=SCHEMA_VERSION, alias="schema")
    since: datetime
    until: datetime
    incidents: int
    """Every incident opened in the window."""
    agent_assisted: list[AgentAssisted]
    weeks: list[WeekRow]


class AgentsReport(BaseModel):
    """``report agents``: agent readiness per agent kind over a window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["1"] = Field(default=SCHEMA_VERSION, alias="schema")
    since: datetime
    until: datetime
    agents: list[AgentReadiness]


Report = RegressionReport | AgentsReport


def report_json(report: Report) -> str:
    """Stable JSON: keys in model order, two-space indent, a final newline."""
    return report.model_dump_json(by_alias=True, indent=2) + "\n"


def report_json_schema(kind: type[Report]) -> dict[str, Any]:
    return kind.model_json_schema(by_alias=True, mode="serialization")


def regression_report(inputs: JoinInputs, since: datetime, until: datetime) -> RegressionReport:
    found, window = find_regressions(inputs, since, until)
    return RegressionReport(
        since=since,
        until=until,
        incidents=len(window),
        agent_assisted=found,
        weeks=weekly(found, window, since, until),
    )


def agents_report(inputs: JoinInputs, since: datetime, until: datetime) -> AgentsReport:
    return AgentsReport(
        since=since, until=until, agents=readiness(inputs.sessions, inputs.facts, since, until)
    )
