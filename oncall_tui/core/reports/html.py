"""The reports as one self-contained HTML page each, to share.

No script and no external URL: styles are inline, the weekly chart is inline SVG, and a
Content-Security-Policy forbids loading anything. Every piece of text goes through
``html.escape``; text someone typed (titles, commit subjects, reasons) appears only as element
content, never in an attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from oncall_tui.core.regressions import AgentAssisted, WeekRow, exposure_label
from oncall_tui.core.reports.md import by_agent, by_service, guard_text, untold, when
from oncall_tui.core.reports.model import AgentsReport, RegressionReport
from oncall_tui.core.sanitize import display_text

CHART_W, CHART_H, CHART_PAD = 600, 160, 22
_CSS = """
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;
--accent:#0969da;--bad:#cf222e;--all:#afb8c1}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;
--line:#3d444d;--accent:#4493f8;--bad:#f85149;--all:#3d444d}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid var(--line)}
h1,h2,p,td{overflow-wrap:anywhere}
.meta{color:var(--muted);font-size:.85rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
code{font-size:.85em}
.told{color:var(--accent)}.pending,.never{color:var(--bad)}
svg{width:100%;height:auto;display:block}
.all{fill:var(--all)}.assisted{fill:var(--bad)}.axis{fill:var(--muted);font-size:11px}
"""
_HEAD = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    '<meta http-equiv="Content-Security-Policy"'
    " content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
    '<meta name="referrer" content="no-referrer">\n'
)
_STATE_CLASS = {"told": "told", "pending": "pending", "never told": "never", "no session": "meta"}


def _e(text: object, limit: int | None = 300) -> str:
    return escape(display_text(text, limit), quote=True)


def _page(title: str, body: str) -> str:
    return (
        f"{_HEAD}<title>{_e(title)} · oncall-tui</title>\n<style>{_CSS}</style>\n"
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """``head`` and ``rows`` hold HTML already escaped."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>\n" for row in rows)
    return f'<div class="scroll"><table>\n<tr>{th}</tr>\n{body}</table></div>'


def weekly_chart(weeks: Sequence[WeekRow]) -> str:
    """Bars per week: every incident (grey) with the agent-assisted ones over them (red)."""
    if not weeks:
        return ""
    top = max([w.incidents for w in weeks] + [1])
    slot = (CHART_W - 2 * CHART_PAD) / len(weeks)
    usable = CHART_H - 2 * CHART_PAD
    bars = []
    for n, week in enumerate(weeks):
        x = CHART_PAD + n * slot + slot * 0.15
        width = slot * 0.7
        for css, count in (("all", week.incidents), ("assisted", week.agent_assisted)):
            height = usable * count / top
            y = CHART_H - CHART_PAD - height
            bars.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}"'
                f' height="{height:.1f}"><title>{week.week:%Y-%m-%d}: {count}</title></rect>'
            )
        bars.append(f'<text class="axis" x="{x:.1f}" y="{CHART_H - 6}">{week.week:%m-%d}</text>')
    return (
        f'<svg viewBox="0 0 {CHART_W} {CHART_H}" role="img"'
        ' aria-label="incidents per week, agent-assisted in red">'
        f'<text class="axis" x="{CHART_PAD}" y="14">max {top} per week</text>'
        + "".join(bars)
        + "</svg>"
    )


def regressions_html(report: RegressionReport) -> str:
    parts = [
        "<h1>Agent-assisted regressions</h1>",
        f'<p class="meta">{_e(when(report.since))} to {_e(when(report.until))}:'
        f" {report.incidents} incidents, {len(report.agent_assisted)} agent-assisted.</p>",
        "<h2>Per week</h2>",
        weekly_chart(report.weeks),
        _table(
            ["Week of", "Incidents", "Agent-assisted", "By agent", "By service (assisted/all)"],
            [
                [
                    f"{w.week:%Y-%m-%d}",
                    str(w.incidents),
                    str(w.agent_assisted),
                    _e(by_agent(w)),
                    _e(by_service(w)),
                ]
                for w in report.weeks
            ],
        ),
    ]
    parts += [_incident(e) for e in report.agent_assisted]
    if not report.agent_assisted:
        parts.append("<p>No incident's suspect deploy carried an agent's commits.</p>")
    return _page("Agent-assisted regressions", "\n".join(parts))


def _incident(evidence: AgentAssisted) -> str:
    parts = [
        f'<section class="incident"><h2>{_e(evidence.incident_id, 16)}: {_e(evidence.title)}</h2>',
        f'<p class="meta">Service {_e(evidence.service or "-", 60)},'
        f" opened {_e(when(evidence.opened_at))}.</p>",
    ]
    for deploy in evidence.deploys:
        parts.append(
            f"<p>Suspect deploy <code>{_e(deploy.sha[:12])}</code> of {_e(deploy.repo, 80)} to"
            f" {_e(deploy.service, 60)} at {_e(when(deploy.at))}: {len(deploy.commits)} agent"
            f" commit(s), {deploy.human_commits} other(s).</p>"
        )
        rows = []
        for c in deploy.commits:
            label = exposure_label(c.exposure)
            state = f'<span class="{_STATE_CLASS[c.exposure.value]}">{_e(label)}</span>'
            if c.push_id:
                state += f" ({_e(c.push_id, 20)})"
            rows.append(
                [
                    f"<code>{_e(c.sha[:12])}</code> {_e(when(c.authored_at))}",
                    _e(c.subject, 120),
                    _e(c.agent or "-", 40),
                    _e(c.session_id or "-", 80),
                    _e(", ".join(c.files) or "-"),
                    state,
                    _e(untold(c)),
                    _e(guard_text(c)),
                ]
            )
        parts.append(
            _table(
                [
                    "Commit",
                    "Subject",
                    "Agent",
                    "Session",
                    "Files",
                    "Context when committed",
                    "Untold for",
                    "Guard",
                ],
                rows,
            )
        )
    return "\n".join(parts) + "</section>"


def agents_html(report: AgentsReport) -> str:
    head = [
        "Agent",
        "Sessions",
        "Read (hook/MCP)",
        "File only",
        "Pushes told",
        "Acknowledged",
        "Guard asked",
        "Denied",
        "Allowed after ask",
        "Ask heeded",
        "Edits after told",
    ]
    rows = [
        [_e(a.agent, 40)]
        + [
            str(n)
            for n in (
                a.sessions,
                a.contexts_read,
                a.contexts_filed,
                a.pushes_told,
                a.acknowledgements,
                a.guard_asked,
                a.guard_denied,
                a.allowed_after_ask,
                a.asks_without_write,
                a.edits_after_told,
            )
        ]
        for a in report.agents
    ]
    rejected = [
        f"<li>{_e(r.push_id, 20)} ({_e(r.incident_id, 16)}, {_e(a.agent, 40)} session"
        f" {_e(r.session_id, 80)}) by {_e(r.by or '-', 80)}: {_e(r.reason or 'no reason')}</li>"
        for a in report.agents
        for r in a.rejected
    ]
    body = "\n".join(
        [
            "<h1>Agent readiness</h1>",
            f'<p class="meta">{_e(when(report.since))} to {_e(when(report.until))}.</p>',
            _table(head, rows),
            "<h2>Pushes rejected by engineers</h2>",
            f"<ul>{''.join(rejected)}</ul>" if rejected else "<p>None.</p>",
        ]
    )
    return _page("Agent readiness", body)
