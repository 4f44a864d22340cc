"""The reports as plain text columns for a terminal (``--format table``, the default)."""

from __future__ import annotations

from oncall_tui.core.regressions import exposure_label
from oncall_tui.core.reports.md import by_agent, by_service, guard_text, untold, when
from oncall_tui.core.reports.model import AgentsReport, RegressionReport
from oncall_tui.core.sanitize import display_text


def regressions_table(report: RegressionReport) -> str:
    lines = [
        f"{when(report.since)} to {when(report.until)}: {report.incidents} incidents,"
        f" {len(report.agent_assisted)} agent-assisted",
        "",
        f"{'week of':<11} {'incidents':>9} {'assisted':>8}  by agent / by service",
    ]
    for w in report.weeks:
        lines.append(
            f"{w.week:%Y-%m-%d}  {w.incidents:>9} {w.agent_assisted:>8}"
            f"  {display_text(by_agent(w), 80)} / {display_text(by_service(w), 120)}"
        )
    for e in report.agent_assisted:
        lines += ["", f"{display_text(e.incident_id, 16)}  {display_text(e.title, 100)}"]
        for d in e.deploys:
            lines.append(
                f"  deploy {d.sha[:12]} {display_text(d.service, 40)} {when(d.at)}"
                f"  ({d.human_commits} other commit(s))"
            )
            for c in d.commits:
                lines.append(
                    f"    {c.sha[:12]} {display_text(c.agent or '-', 16):<12}"
                    f" {display_text(c.session_id or '-', 40):<24}"
                    f" {exposure_label(c.exposure):<19} untold {untold(c):<10}"
                    f" guard {display_text(guard_text(c), 60)}"
                )
                lines.append(f"      {display_text(', '.join(c.files) or '-', 160)}")
    return "\n".join(lines) + "\n"


def agents_table(report: AgentsReport) -> str:
    lines = [
        f"{when(report.since)} to {when(report.until)}",
        "",
        f"{'agent':<12} {'sessions':>8} {'read':>5} {'file':>5} {'told':>5} {'acks':>5}"
        f" {'asked':>5} {'denied':>6} {'allowed':>7} {'heeded':>6} {'edits':>5}",
    ]
    for a in report.agents:
        lines.append(
            f"{display_text(a.agent, 12):<12} {a.sessions:>8} {a.contexts_read:>5}"
            f" {a.contexts_filed:>5} {a.pushes_told:>5} {a.acknowledgements:>5}"
            f" {a.guard_asked:>5} {a.guard_denied:>6} {a.allowed_after_ask:>7}"
            f" {a.asks_without_write:>6} {a.edits_after_told:>5}"
        )
    rejected = [(a.agent, r) for a in report.agents for r in a.rejected]
    if rejected:
        lines += ["", "rejected pushes:"]
        lines += [
            f"  {display_text(r.push_id, 20)} {display_text(r.incident_id, 16)}"
            f" {display_text(r.session_id, 40)} by {display_text(r.by or '-', 40)}:"
            f" {display_text(r.reason or 'no reason', 160)}"
            for _, r in rejected
        ]
    return "\n".join(lines) + "\n"
