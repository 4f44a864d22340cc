"""``ingest`` and ``deliveries``: what came in, what was refused and why, and reruns."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import BinaryIO

import click

from oncall_tui.cli.app_context import UserError, app_context, friendly_errors, print_json
from oncall_tui.core.sanitize import display_text
from oncall_tui.ingest.record import Ingestor
from oncall_tui.sources import SOURCE_MODULES
from oncall_tui.store import deliveries as delivery_table
from oncall_tui.store import refusals as refusal_counts


@click.command()
@click.argument("source", type=click.Choice(sorted(SOURCE_MODULES)))
@click.argument("file", type=click.File("rb"))
@click.option(
    "--headers",
    "headers_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object of the HTTP headers that came with the payload (signatures, delivery ids).",
)
@click.option(
    "-H",
    "--header",
    "header_pairs",
    multiple=True,
    metavar="NAME:VALUE",
    help="One header; repeatable.",
)
@friendly_errors
def ingest(
    source: str,
    file: BinaryIO,
    headers_file: Path | None,
    header_pairs: tuple[str, ...],
) -> None:
    """Feed one payload (FILE, or - for stdin) through the same path as a webhook.

    Prints a JSON summary; exits 1 when the delivery is rejected.
    """
    body: bytes = file.read()
    headers: dict[str, str] = {}
    if headers_file is not None:
        loaded = json.loads(headers_file.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise UserError(f"{headers_file}: expected a JSON object of header names to values")
        headers.update({str(k): str(v) for k, v in loaded.items()})
    for pair in header_pairs:
        name, sep, value = pair.partition(":")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not NAME:VALUE", param_hint="--header")
        headers[name.strip()] = value.strip()
    app = app_context()
    result = Ingestor(app.store, app.settings).ingest(source, body, headers, verify="signature")
    print_json(result.as_json())
    if result.status == "rejected":
        sys.exit(1)


@click.group(invoke_without_command=True)
@click.option("--rejected", is_flag=True, help="Only deliveries that were refused.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@friendly_errors
def deliveries(ctx: click.Context, rejected: bool, as_json: bool, limit: int) -> None:
    """What came in, what was refused and why."""
    if ctx.invoked_subcommand is not None:
        return
    rows = delivery_table.listing(app_context().store.conn, rejected_only=rejected, limit=limit)
    if as_json:
        print_json(
            [
                {
                    "id": d.id,
                    "source": d.source,
                    "delivery_key": d.delivery_key,
                    "received_at": d.received_at.isoformat(),
                    "status": d.status,
                    "http_status": d.http_status,
                    "reason": d.reason,
                    "signals": d.signal_count,
                    "attempts": d.attempts,
                    "bytes": len(d.body),
                    "headers": d.headers,
                }
                for d in rows
            ]
        )
        return
    if not rows:
        click.echo("no deliveries" + (" rejected" if rejected else ""))
    for d in rows:
        why = f"  {display_text(d.reason or '', 120)}" if d.reason else ""
        retries = f" x{d.attempts}" if d.attempts > 1 else ""
        # The source is the URL segment a sender chose, stored even when it names no source.
        click.echo(
            f"{d.id:>6}  {d.received_at:%Y-%m-%d %H:%M:%S}  {display_text(d.source, 40):<12}"
            f" {display_text(d.status, 12):<9} {d.http_status}"
            f"  {d.signal_count:>4} signals{retries}{why}"
        )
    if rejected:
        unstored = sum(c.unstored for c in refusal_counts.recent(app_context().store.conn))
        if unstored:
            click.echo(
                f"{unstored} more refused requests were counted, not stored (a flood is kept"
                " bounded): oncall-tui deliveries refusals"
            )


@deliveries.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=50, show_default=True)
@friendly_errors
def refusals(as_json: bool, limit: int) -> None:
    """Requests refused before the sender was known (credentials, unknown source), per minute.

    Every one is counted; only the first few of each minute are kept as deliveries.
    """
    counts = refusal_counts.recent(app_context().store.conn, limit=limit)
    if as_json:
        print_json(
            [
                {
                    "minute": c.minute,
                    "source": c.source,
                    "http_status": c.http_status,
                    "count": c.count,
                    "stored": c.kept,
                }
                for c in counts
            ]
        )
        return
    if not counts:
        click.echo("no refused requests")
    for c in counts:
        click.echo(
            f"{c.minute}  {display_text(c.source, 40):<14} {c.http_status}"
            f"  {c.count:>6} refused  {c.kept:>3} stored"
        )


@deliveries.command()
@click.argument("delivery_id", required=False, type=int)
@click.option("--rejected", "all_rejected", is_flag=True, help="Every rejected delivery.")
@friendly_errors
def rerun(delivery_id: int | None, all_rejected: bool) -> None:
    """Feed stored raw deliveries through today's adapters (e.g. after a fix).

    What was already accepted is not recorded twice.
    """
    if (delivery_id is None) == (not all_rejected):
        raise click.UsageError("give one DELIVERY_ID or --rejected")
    app = app_context()
    ingestor = Ingestor(app.store, app.settings)
    ids = delivery_table.rejected_ids(app.store.conn) if all_rejected else [delivery_id]
    results = [{"delivery_id": i, **ingestor.rerun(i).as_json()} for i in ids if i is not None]
    print_json(
        {
            "rerun": len(results),
            "accepted": sum(r["status"] == "accepted" for r in results),
            "results": results,
        }
    )
