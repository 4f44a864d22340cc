"""``ingest`` and ``deliveries``: what came in, what was refused and why, and reruns."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from oncall_tui.cli.app_context import UserError, app_context, friendly_errors, print_json
from oncall_tui.core.sanitize import display_text
from oncall_tui.ingest.batch import (
    BatchStoppedError,
    BatchSummary,
    LocalDelivery,
    Rejection,
    ingest_in_batches,
    ndjson_deliveries,
)
from oncall_tui.ingest.record import Ingestor
from oncall_tui.sources import SOURCE_MODULES
from oncall_tui.store import deliveries as delivery_table
from oncall_tui.store import refusals as refusal_counts


@click.command()
@click.argument("source", type=click.Choice(sorted(SOURCE_MODULES)))
@click.argument(
    "files",
    metavar="FILE...",
    nargs=-1,
    required=True,
    # All checked before the first is read: a typo at the end must not stop a batch half-way.
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
)
@click.option(
    "--headers",
    "headers_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object of the HTTP headers that came with the payload (signatures, delivery ids);"
    " with several deliveries, the headers of every one.",
)
@click.option(
    "-H",
    "--header",
    "header_pairs",
    multiple=True,
    metavar="NAME:VALUE",
    help="One header; repeatable.",
)
@click.option(
    "--headers-beside",
    is_flag=True,
    help="Each FILE's own headers from NAME.headers.json beside it, over --headers/-H"
    " (FILEs named *.headers.json are then not deliveries).",
)
@click.option(
    "--ndjson",
    is_flag=True,
    help="Each FILE (- for stdin) holds one delivery body per line; signatures are not checked.",
)
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON.")
@friendly_errors
def ingest(
    source: str,
    files: tuple[str, ...],
    headers_file: Path | None,
    header_pairs: tuple[str, ...],
    headers_beside: bool,
    ndjson: bool,
    as_json: bool,
) -> None:
    """Feed payloads through the same path as webhooks: each FILE (- for stdin) a delivery.

    One FILE: its result is printed as JSON. Several, or --ndjson: committed 500 per
    transaction, refusals on stderr as they come (with the line number for NDJSON), progress
    once a second when stderr is a terminal, then a summary (--json: as JSON).

    Signatures are checked as for webhooks (bearer/basic credentials are not: you hold the
    DB). NDJSON lines have no headers of their own, so nothing can sign them: they are taken
    as your own data, as what pollers fetch is, and --headers/-H are stored with each.

    Every delivery is stored, a refused one with why (deliveries --rejected, rerun after a
    fix); exits 1 when any was rejected.
    """
    if files.count("-") > 1:
        raise click.BadParameter("stdin (-) can be read only once", param_hint="FILE")
    headers = _shared_headers(headers_file, header_pairs)
    app = app_context()
    ingestor = Ingestor(app.store, app.settings)
    if len(files) == 1 and not ndjson:
        # One delivery, one commit, its own result: what scripts have always read.
        delivery = _file_delivery(files[0], headers, beside=headers_beside)
        result = ingestor.ingest(source, delivery.body, delivery.headers, verify=delivery.verify)
        print_json(result.as_json())
        if result.status == "rejected":
            sys.exit(1)
        return
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        summary = ingest_in_batches(
            ingestor,
            source,
            _deliveries(files, headers, ndjson=ndjson, beside=headers_beside),
            on_rejected=progress.before(_report_rejection) if progress else _report_rejection,
            on_batch=progress.show if progress is not None else None,
        )
    except BatchStoppedError as exc:
        if progress is not None:
            progress.done()
        raise UserError(display_text(str(exc), 300)) from exc
    if progress is not None:
        progress.done()
    if as_json:
        print_json(summary.as_json())
    else:
        click.echo(_summary_line(summary))
    if summary.rejected:
        sys.exit(1)


def _shared_headers(headers_file: Path | None, header_pairs: tuple[str, ...]) -> dict[str, str]:
    headers: dict[str, str] = {}
    if headers_file is not None:
        headers.update(_headers_in(headers_file))
    for pair in header_pairs:
        name, sep, value = pair.partition(":")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not NAME:VALUE", param_hint="--header")
        headers[name.strip()] = value.strip()
    return headers


def _headers_in(path: Path) -> dict[str, str]:
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise UserError(f"{path}: expected a JSON object of header names to values")
    return {str(k): str(v) for k, v in loaded.items()}


HEADERS_SUFFIX = ".headers.json"
"""``triggered.json`` keeps the headers it came with in ``triggered.headers.json``."""


def _file_delivery(name: str, shared: dict[str, str], *, beside: bool) -> LocalDelivery:
    if name == "-":
        return LocalDelivery(sys.stdin.buffer.read(), shared, "signature")
    path = Path(name)
    headers = shared
    if beside:
        own = path.with_name(path.name.removesuffix(".json") + HEADERS_SUFFIX)
        if own.is_file():
            headers = {**shared, **_headers_in(own)}
    return LocalDelivery(path.read_bytes(), headers, "signature", file=name)


def _deliveries(
    files: tuple[str, ...], shared: dict[str, str], *, ndjson: bool, beside: bool
) -> Iterator[LocalDelivery]:
    """Read lazily, so a long list of files or a long stream is never all in memory."""
    for name in files:
        if ndjson:
            if name == "-":
                yield from ndjson_deliveries(sys.stdin.buffer, shared)
            else:
                with open(name, "rb") as stream:
                    yield from ndjson_deliveries(stream, shared, file=name)
        elif not (beside and name.endswith(HEADERS_SUFFIX)):
            yield _file_delivery(name, shared, beside=beside)


def _report_rejection(rejection: Rejection) -> None:
    result = rejection.result
    kept = (
        f"; kept as delivery {result.delivery_id}"
        if result.delivery_id is not None
        else "; counted, not stored"
    )
    click.echo(
        f"{display_text(rejection.delivery.where, 200)}: rejected ({result.http_status})"
        f" {display_text(result.reason or '', 300)}{kept}",
        err=True,
    )


SUMMARY_INCIDENTS = 10
"""Incidents named in the summary line; the rest are counted (--json lists them all)."""


def _summary_line(summary: BatchSummary) -> str:
    ids = list(summary.incidents)
    touched = ", ".join(display_text(i, 40) for i in ids[:SUMMARY_INCIDENTS]) or "none"
    if len(ids) > SUMMARY_INCIDENTS:
        touched += f" and {len(ids) - SUMMARY_INCIDENTS:,} more"
    return (
        f"{summary.total:,} deliveries: {summary.accepted:,} accepted,"
        f" {summary.duplicate:,} duplicate, {summary.rejected:,} rejected;"
        f" incidents touched: {touched}"
    )


class _Progress:
    """A line on the terminal, rewritten at most once a second while batches commit."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last = clock()
        self._shown = False

    def show(self, summary: BatchSummary) -> None:
        now = self._clock()
        if now - self._last < 1.0:
            return
        self._last = now
        self._shown = True
        self._write(
            f"\r{summary.total:,} deliveries: {summary.accepted:,} accepted,"
            f" {summary.duplicate:,} duplicate, {summary.rejected:,} rejected"
        )

    def done(self) -> None:
        if self._shown:
            self._write("\r\x1b[K")  # the line is erased: the summary follows on stdout
            self._shown = False

    def before(self, report: Callable[[Rejection], None]) -> Callable[[Rejection], None]:
        """``report``, on a line of its own rather than after the progress line."""

        def erase_then_report(rejection: Rejection) -> None:
            self.done()
            report(rejection)

        return erase_then_report

    @staticmethod
    def _write(text: str) -> None:
        # Straight to the terminal: click.echo would strip the erase sequence.
        sys.stderr.write(text)
        sys.stderr.flush()


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
