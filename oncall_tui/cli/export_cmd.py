"""``export [--dir DIR] [--check] [--json]``: write the context files agents read, now."""

from __future__ import annotations

from pathlib import Path

import click

from oncall_tui.agents.export.sync import ExportReport, sync
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.sanitize import display_text


@click.command()
@click.option(
    "--dir",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Export directory (default: [export] dir from the config).",
)
@click.option(
    "--check",
    is_flag=True,
    help="First list the files that differ from what the DB says (missing, stale, extra), "
    "then repair them. Exits 1 if any differed.",
)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@friendly_errors
def export(export_dir: Path | None, check: bool, as_json: bool) -> None:
    """Write every session's CONTEXT.md and context.json, INDEX.md and the enabled repo files.

    Unchanged files are left alone; a document that fails its check is not written (exit 1).
    """
    app = app_context()
    settings = app.settings
    if export_dir is not None:
        export = settings.export.model_copy(update={"dir": export_dir})
        settings = settings.model_copy(update={"export": export})
    checked = sync(app.store, settings, check_only=True) if check else None
    report = sync(app.store, settings)
    if as_json:
        print_json({**report.as_json(), "check": checked.as_json() if checked else None})
    else:
        if checked is not None:
            _print_check(checked)
        _print_summary(report)
    if report.failed or (checked is not None and checked.differing):
        click.get_current_context().exit(1)


def _print_check(report: ExportReport) -> None:
    for label in ("missing", "stale", "extra"):
        for path in getattr(report, label):
            click.echo(f"{label:<8} {display_text(path, None)}")
    if report.differing:
        click.echo(f"{len(report.differing)} file(s) differed from the DB; repairing")
    else:
        click.echo("every file matches the DB")


def _print_summary(report: ExportReport) -> None:
    click.echo(
        f"exported to {display_text(report.root, None)}: {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
    )
    for session_id, push_ids in sorted(report.delivered.items()):
        click.echo(display_text(f"delivered to {session_id}: {', '.join(push_ids)}", None))
    for failure in report.failed:
        problems = "; ".join(failure.problems)
        click.echo(display_text(f"not written: {failure.file}: {problems}", None), err=True)
