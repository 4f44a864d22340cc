"""``timeline INCIDENT_ID`` and ``timeline --since T``: the post-incident record, exported.

Markdown for the review document, JSON for tools (schema: ``timeline_schema``), one HTML page to
share. ``--at`` cuts the story at a moment, as the replay would show it then.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click

from oncall_tui.cli.app_context import (
    app_context,
    ascii_json,
    echo_document,
    friendly_errors,
    print_json,
)
from oncall_tui.core import collector
from oncall_tui.core.timeline.html import timeline_html
from oncall_tui.core.timeline.md import timeline_markdown
from oncall_tui.core.timeline.report import build_timeline, with_agent_assisted
from oncall_tui.core.timeline.schema import (
    IncidentTimeline,
    TimelineDocument,
    timeline_json,
    timeline_json_schema,
)
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.queries import get_incident
from oncall_tui.store.reports import incident_evidence
from oncall_tui.store.timeline import StorySource, incidents_between

_RELATIVE = re.compile(r"([+-])(\d+(?:\.\d+)?)([smhdw])")
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RENDER = {"md": timeline_markdown, "json": timeline_json, "html": timeline_html}


def parse_when(text: str, now: datetime, day: date | None = None) -> datetime:
    """ISO 8601 (a time without a zone is UTC), ``now``, relative to now (``-2h``, ``-30m``,
    ``-1d``, ``+15m``; units s, m, h, d, w), or a time of day in UTC (``12:05``, ``12:05:30``)
    on ``day`` (the incident's, for ``--at``), today's by default."""
    value = text.strip()
    if value.lower() == "now":
        return now
    clock_time = _TIME_OF_DAY.fullmatch(value)
    if clock_time is not None:
        hour, minute, second = (int(part or 0) for part in clock_time.groups())
        if hour > 23 or minute > 59 or second > 59:
            raise click.BadParameter(f"{value!r} is not a time of day (00:00 to 23:59:59)")
        on = day or now.astimezone(UTC).date()
        return datetime.combine(on, time(hour, minute, second), tzinfo=UTC)
    relative = _RELATIVE.fullmatch(value)
    if relative is not None:
        sign, amount, unit = relative.groups()
        delta = timedelta(**{_UNITS[unit]: float(amount)})
        return now - delta if sign == "-" else now + delta
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value[:60]!r} is not a time: use 12:05 (UTC), ISO 8601 (2026-11-23T12:00Z) "
            "or e.g. -2h"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


@click.command()
@click.argument("incident_id", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(sorted(_RENDER)), default="md", show_default=True
)
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help="The story as it stood then: 12:05 (UTC, the incident's day), ISO 8601 or -2h.",
)
@click.option("--since", metavar="TIME", help="Every incident opened since then (weekly review).")
@click.option("--until", "until_", metavar="TIME", help="End of the --since window [now].")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@friendly_errors
def timeline(
    incident_id: str | None,
    fmt: str,
    at: str | None,
    since: str | None,
    until_: str | None,
    output: Path | None,
) -> None:
    """The timeline of INCIDENT_ID for the post-incident review (Markdown, JSON or HTML)."""
    if (incident_id is None) == (since is None):
        raise click.UsageError(
            "give an INCIDENT_ID, or --since TIME for every incident in a window"
        )
    if until_ is not None and since is None:
        raise click.UsageError("--until goes with --since")
    app = app_context()
    store = app.store
    now = app.clock.now()
    point = None
    if at:
        # A bare time of day means the incident's day: a review is read days later.
        day = get_incident(store.conn, incident_id).opened_at.date() if incident_id else None
        point = parse_when(at, now, day)
    if incident_id is not None:
        refs = [incident_id]
    else:
        assert since is not None
        end = parse_when(until_, now) if until_ else now
        refs = incidents_between(store, parse_when(since, now), end)
    key = fence_key(store)
    # Performance: the record keeps what it is built of until it is written, so a collection
    # meanwhile frees nothing: a third of a 100,000-event incident's export went to them.
    with collector.paused():
        document = TimelineDocument(incidents=[_record(store, ref, point, key) for ref in refs])
        text = _RENDER[fmt](document)
    if output is None:
        if fmt == "json":
            click.echo(ascii_json(text), nl=False)
        else:
            echo_document(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


def _record(store: Store, ref: str, point: datetime | int | None, key: bytes) -> IncidentTimeline:
    """One incident's record, with the agent-assisted evidence when the join flags it."""
    source = StorySource(store, ref)
    record = build_timeline(source.timeline(point), key)
    return with_agent_assisted(record, incident_evidence(store.conn, source.incident_id))


@click.command(name="timeline")
def timeline_schema() -> None:
    """The JSON Schema of ``timeline --format json``."""
    print_json(timeline_json_schema())
