"""``timeline INCIDENT_ID`` and ``timeline --since T``: the post-incident record, exported.

Markdown for the review document, JSON for tools (schema: ``timeline_schema``), one HTML page to
share. ``--at`` cuts the story at a moment, as the replay would show it then.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from oncall_tui.cli.app_context import (
    app_context,
    ascii_json,
    echo_document,
    friendly_errors,
    print_json,
)
from oncall_tui.core.timeline.html import timeline_html
from oncall_tui.core.timeline.md import timeline_markdown
from oncall_tui.core.timeline.report import build_timeline
from oncall_tui.core.timeline.schema import TimelineDocument, timeline_json, timeline_json_schema
from oncall_tui.store.meta import fence_key
from oncall_tui.store.timeline import StorySource, incidents_between

_RELATIVE = re.compile(r"([+-])(\d+(?:\.\d+)?)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RENDER = {"md": timeline_markdown, "json": timeline_json, "html": timeline_html}


def parse_when(text: str, now: datetime) -> datetime:
    """ISO 8601 (a time without a zone is UTC), ``now``, or relative to now: ``-2h``, ``-30m``,
    ``-1d``, ``+15m``; units s, m, h, d, w."""
    value = text.strip()
    if value.lower() == "now":
        return now
    relative = _RELATIVE.fullmatch(value)
    if relative is not None:
        sign, amount, unit = relative.groups()
        delta = timedelta(**{_UNITS[unit]: float(amount)})
        return now - delta if sign == "-" else now + delta
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value[:60]!r} is not a time: use ISO 8601 (2026-11-23T12:00Z) or e.g. -2h"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


@click.command()
@click.argument("incident_id", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(sorted(_RENDER)), default="md", show_default=True
)
@click.option("--at", "at", metavar="TIME", help="The story as it stood then (ISO 8601 or -2h).")
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
    point = parse_when(at, now) if at else None
    if incident_id is not None:
        refs = [incident_id]
    else:
        assert since is not None
        end = parse_when(until_, now) if until_ else now
        refs = incidents_between(store, parse_when(since, now), end)
    key = fence_key(store)
    document = TimelineDocument(
        incidents=[build_timeline(StorySource(store, ref).timeline(point), key) for ref in refs]
    )
    text = _RENDER[fmt](document)
    if output is None:
        if fmt == "json":
            click.echo(ascii_json(text), nl=False)
        else:
            echo_document(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@click.command(name="timeline")
def timeline_schema() -> None:
    """The JSON Schema of ``timeline --format json``."""
    print_json(timeline_json_schema())
