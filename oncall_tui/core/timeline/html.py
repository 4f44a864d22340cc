"""The timeline as one self-contained HTML page, to share and to read on a phone.

No script, no external URL: styles are inline, the signal-rate chart is inline SVG, and a
Content-Security-Policy forbids loading anything. Every piece of text goes through
``html.escape``; text someone typed only ever appears as element content, never in an attribute
(attributes hold our ids, times and fixed class names). Sender links appear only when they are
plain http(s) URLs, with ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from oncall_tui.core.opened import first_signal_note
from oncall_tui.core.regression_text import commit_line, deploy_line
from oncall_tui.core.timeline.exposure import duration
from oncall_tui.core.timeline.md import FIRST_TOLD, agent_step, clock, condensed
from oncall_tui.core.timeline.model import NAMED_JUMPS
from oncall_tui.core.timeline.report import safe_url
from oncall_tui.core.timeline.schema import IncidentTimeline, TimelineDocument

CHART_W, CHART_H, CHART_PAD = 600, 140, 18
_CSS = """
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;
--panel:#f6f8fa;--accent:#0969da;--bad:#cf222e;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;
--line:#3d444d;--panel:#151b23;--accent:#4493f8;--bad:#f85149;--ok:#3fb950}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:62rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;line-height:1.3}
h1,li,p{overflow-wrap:anywhere}a{word-break:break-all}
h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid var(--line)}
.meta,.muted{color:var(--muted);font-size:.85rem}
ol.timeline{list-style:none;margin:0;padding:0}
.event{display:grid;grid-template-columns:5.2rem 1fr;gap:0 .75rem;padding:.35rem .4rem;
border-bottom:1px solid var(--line)}
.event p{margin:0;overflow-wrap:anywhere}
.event .kind{color:var(--muted);font-size:.8rem}
.event.milestone{border-left:3px solid var(--accent)}
.tag{display:inline-block;font-size:.75rem;padding:0 .4rem;border-radius:1rem;
background:var(--accent);color:var(--bg);margin-right:.3rem}
.missing{color:var(--bad)}.current{color:var(--ok)}
details{margin:.4rem 0;padding:.4rem .6rem;background:var(--panel);border-radius:6px}
summary{cursor:pointer;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.78rem;margin:.5rem 0 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td{overflow-wrap:break-word}td:first-child{white-space:nowrap}
svg{width:100%;height:auto;display:block}
.bar{fill:var(--accent)}.axis{fill:var(--muted);font-size:11px}
.mark{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:4 3}
@media (max-width:520px){.event{grid-template-columns:1fr}main{padding:.6rem}}
"""
_HEAD = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    '<meta http-equiv="Content-Security-Policy"'
    " content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
    '<meta name="referrer" content="no-referrer">\n'
)


def timeline_html(document: TimelineDocument) -> str:
    """The whole page; several incidents (a weekly review) follow one another."""
    title = (
        f"{document.incidents[0].incident.id}: {document.incidents[0].incident.title}"
        if len(document.incidents) == 1
        else f"{len(document.incidents)} incidents"
    )
    body = "\n".join(_incident(t) for t in document.incidents) or "<p>No incidents.</p>"
    return (
        f"{_HEAD}<title>{_e(title)} · oncall-tui timeline</title>\n<style>{_CSS}</style>\n"
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _incident(t: IncidentTimeline) -> str:
    info = t.incident
    dated = len({e.ts.date() for e in t.events}) > 1
    parts = [
        f'<article id="{_e(info.id)}">',
        f"<h1>{_e(info.id)}: {_e(info.title)}</h1>",
        f'<p class="meta">Post-incident timeline from the oncall-tui journal up to seq'
        f" {t.through_seq} ({_e(clock(t.through, True))}). Times are UTC.</p>",
        "<h2>Summary</h2>",
        _summary(t),
        *_agent_assisted(t),
        "<h2>Signal rate</h2>",
        _chart(t),
        "<h2>Timeline</h2>",
        '<ol class="timeline">',
    ]
    for event, count in condensed(t.events, t.deliveries):
        more = f" (and {count - 1} more signals)" if count > 1 else ""
        tag = f'<span class="tag">{_e(event.milestone.value)}</span>' if event.milestone else ""
        parts.append(
            f'<li class="event{" milestone" if event.milestone else ""}">'
            f'<time datetime="{event.ts.isoformat()}">{_e(clock(event.ts, dated))}</time>'
            f'<p>{tag}{_e(event.summary)}{_e(more)} <span class="kind">{_e(event.kind)}</span></p></li>'
        )
    parts += ["</ol>", "<h2>What agents were told</h2>", *_told(t, told=True)]
    parts += ["<h2>Context files written</h2>", *_told(t, told=False)]
    parts += ["<h2>Decisions</h2>", _decisions(t, dated), "<h2>Exposure</h2>", _exposure(t)]
    parts += ["<h2>Follow-ups</h2>", _follow_ups(t), "</article>"]
    return "\n".join(parts)


def _agent_assisted(t: IncidentTimeline) -> list[str]:
    """The section exists only when a suspect deploy shipped an agent's commits."""
    evidence = t.agent_assisted
    if evidence is None:
        return []
    items = [
        f"<li>{_e(deploy_line(d))}<ul>"
        + "".join(f"<li>{_e(commit_line(c))}</li>" for c in d.commits)
        + "</ul></li>"
        for d in evidence.deploys
    ]
    return ["<h2>Agent-assisted</h2>", "<ul>" + "".join(items) + "</ul>"]


def _summary(t: IncidentTimeline) -> str:
    info, times = t.incident, t.times
    items = [
        f"{_e(info.id)} on {_e(info.service or 'an unknown service')}:"
        f" {_e(info.severity.value)}, {_e(info.state.value)}; {info.signal_count} signals from"
        f" {_e(', '.join(info.sources) or 'no source')}."
    ]
    note = first_signal_note(info.opened_at, info.signal_started_at)
    items.append(f"Opened {_e(clock(info.opened_at, True))}" + (f" ({_e(note)})." if note else "."))
    agent = [
        ("first push approved", times.to_first_approval_s),
        (FIRST_TOLD, times.to_first_delivery_s),
        ("first context file written", times.to_first_file_delivery_s),
        ("first acknowledgement by an agent", times.to_first_acknowledgement_s),
        ("resolved", times.to_resolution_s),
    ]
    after = [agent_step(n, s) for n, s in agent if s is not None or n == FIRST_TOLD]
    items.append("From the first signal: " + _e(", ".join(after)) + ".")
    items += [_e(c.summary) + f" ({_e(c.relation)})" for c in t.changes]
    for link in filter(None, (safe_url(href) for href in info.links)):
        items.append(f'<a href="{_e(link)}" rel="noopener noreferrer">{_e(link)}</a>')
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _chart(t: IncidentTimeline) -> str:
    """Bars of signals per bucket, dashed lines at the named milestones."""
    buckets = t.signal_rate
    if not buckets:
        return '<p class="muted">No signals.</p>'
    start = buckets[0].start
    span = len(buckets) * t.rate_bucket_s
    peak = max(b.signals for b in buckets) or 1
    width, height = CHART_W / len(buckets), CHART_H - 2 * CHART_PAD

    def x(when: datetime) -> float:
        return min(max((when - start).total_seconds() / span, 0.0), 1.0) * CHART_W

    shapes = []
    for i, bucket in enumerate(buckets):
        h = height * bucket.signals / peak
        shapes.append(
            f'<rect class="bar" x="{i * width:.1f}" y="{CHART_PAD + height - h:.1f}"'
            f' width="{max(width - 1, 1):.1f}" height="{h:.1f}"><title>{bucket.signals}'
            f" at {_e(clock(bucket.start))}</title></rect>"
        )
    for event in t.events:
        if event.milestone in NAMED_JUMPS:
            at = x(event.ts)
            shapes.append(
                f'<line class="mark" x1="{at:.1f}" x2="{at:.1f}" y1="{CHART_PAD}"'
                f' y2="{CHART_H - CHART_PAD}"><title>{_e(event.milestone)}'
                f" at {_e(clock(event.ts))}</title></line>"
            )
    shapes.append(f'<text class="axis" x="0" y="{CHART_H - 4}">{_e(clock(start))}</text>')
    shapes.append(
        f'<text class="axis" x="0" y="12">{peak} per {_e(duration(t.rate_bucket_s))}</text>'
    )
    return (
        f'<svg viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="Signals over time">'
        f"<title>Signals per {_e(duration(t.rate_bucket_s))}</title>{''.join(shapes)}</svg>"
        '<p class="muted">Dashed lines: first agent told, deploys, rollbacks, resolution.</p>'
    )


def _told(t: IncidentTimeline, *, told: bool) -> list[str]:
    """Hook prints and MCP reads (``told``), or file writes: a file proves no reading."""
    shown = [d for d in t.deliveries if d.told is told]
    if not shown:
        none = "No context reached an agent" if told else "No context file was written"
        return [f"<p>{none}.</p>"]
    blocks = []
    for d in shown:
        head = f"{clock(d.at, True)}: {', '.join(d.push_ids)} to {d.session_id} via {d.channel}"
        if d.count > 1:
            head += f", {d.count} times until {clock(d.last_at, True)}"
        document = d.document if d.document is not None else "(the session was unknown then)"
        blocks.append(f"<details><summary>{_e(head)}</summary><pre>{_e(document)}</pre></details>")
    return blocks


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _decisions(t: IncidentTimeline, dated: bool) -> str:
    if not t.decisions:
        return "<p>No decisions recorded.</p>"
    rows = [[_e(clock(d.at, dated)), _e(d.by), _e(d.what)] for d in t.decisions]
    return _table(["Time", "Who", "Decision"], rows)


def _exposure(t: IncidentTimeline) -> str:
    if not t.exposure:
        return "<p>No agent session was affected.</p>"
    items = "".join(f"<li>{_e(x.summary)}</li>" for x in t.exposure)
    rows = [
        [
            _e(x.session_id),
            _e(x.service or "?"),
            f'<span class="missing">{_e(duration(x.missing_s))}</span>',
            _e(duration(x.stale_s)),
            f'<span class="current">{_e(duration(x.current_s))}</span>',
        ]
        for x in t.exposure
    ]
    header = ["Session", "Service", "Without context", "Outdated", "Current"]
    return f"<ul>{items}</ul>" + _table(header, rows) + _exposure_by_agent(t)


def _exposure_by_agent(t: IncidentTimeline) -> str:
    """Sessions of one agent (resumed, or the same worktree and branch) added up."""
    if not t.exposure_by_agent:
        return ""
    rows = [
        [
            _e(f"{x.agent_id} ({x.agent})"),
            _e(", ".join(x.sessions)),
            f'<span class="missing">{_e(duration(x.missing_s))}</span>',
            _e(duration(x.stale_s)),
            f'<span class="current">{_e(duration(x.current_s))}</span>',
        ]
        for x in t.exposure_by_agent
    ]
    header = ["Agent", "Sessions", "Without context", "Outdated", "Current"]
    return "<h3>Per agent</h3>" + _table(header, rows)


def _follow_ups(t: IncidentTimeline) -> str:
    if not t.follow_ups:
        return "<p>No notes were written.</p>"
    items = []
    for n in t.follow_ups:
        about = f" for {n.service}" if n.service else ""
        rationale = f"<br>Rationale: {_e(n.rationale)}" if n.rationale else ""
        items.append(
            f"<li><strong>{_e(n.kind)}</strong>{_e(about)} ({_e(n.id)}, {_e(n.author)},"
            f" {_e(clock(n.created_at, True))}): {_e(n.text)}{rationale}</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"
