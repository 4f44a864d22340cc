"""``notes add|list|accept``: operational memory per service."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from oncall_tui.actions import notes as note_actions
from oncall_tui.actor import engineer
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.agents import NoteKind
from oncall_tui.core.sanitize import display_text


@click.group()
def notes() -> None:
    """Decisions, runbook hints and warnings that every session touching a service should know."""


@notes.command()
@click.option("--service", help="The service it is about.")
@click.option("--incident", "incident_id", help="Or the incident it is about.")
@click.option(
    "--kind", type=click.Choice([k.value for k in NoteKind]), default="decision", show_default=True
)
@click.option("--text", required=True)
@click.option("--rationale", default="")
@click.option(
    "--path", "paths", multiple=True, help="A file the note is about (relative to --repo-root)."
)
@click.option(
    "--repo-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Checkout the paths are relative to (default: the current directory when --path is given).",
)
@click.option(
    "--review-by",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="After this date the note is flagged stale until reviewed.",
)
@click.option("--supersedes", default=None, help="The note this one replaces.")
@friendly_errors
def add(
    service: str | None,
    incident_id: str | None,
    kind: str,
    text: str,
    rationale: str,
    paths: tuple[str, ...],
    repo_root: Path | None,
    review_by: datetime | None,
    supersedes: str | None,
) -> None:
    """Add a note."""
    root = repo_root or (Path.cwd() if paths else None)
    store = app_context().store
    if service is not None:
        service = note_actions.check_service(store, service)
    note = note_actions.add_note(
        store,
        author=engineer(),
        kind=NoteKind(kind),
        text=text,
        service=service,
        incident_id=incident_id,
        rationale=rationale,
        paths=list(paths),
        repo_root=str(root.resolve()) if root else None,
        review_by=review_by.replace(tzinfo=UTC) if review_by else None,
        supersedes=supersedes,
    )
    click.echo(f"{note.id} added")


@notes.command(name="list")
@click.option("--service")
@click.option("--all", "include_superseded", is_flag=True, help="Include superseded notes.")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def list_(service: str | None, include_superseded: bool, as_json: bool) -> None:
    """Notes, with stale ones flagged (files gone, review date passed)."""
    app = app_context()
    now = app.clock.now()
    found = note_actions.list_notes(app.store, service, include_superseded)
    if as_json:
        print_json(
            [
                {
                    **n.model_dump(mode="json"),
                    # Always present: the stored form leaves them out at their defaults.
                    "rejected": n.rejected,
                    "retired": n.retired,
                    "closed_reason": n.closed_reason,
                    "stale": note_actions.stale_reasons(n, now),
                }
                for n in found
            ]
        )
        return
    if not found:
        click.echo("no notes")
        return
    for n in found:
        flags = []
        stale = note_actions.stale_reasons(n, now)
        if stale:
            flags.append("STALE: " + "; ".join(stale))
        if n.is_closed:
            closed = "REJECTED" if n.rejected else "RETIRED"
            flags.append(f"{closed}: {n.closed_reason}" if n.closed_reason else closed)
        elif not n.accepted:
            flags.append("agent note awaiting review")
        if n.superseded_by:
            flags.append(f"superseded by {n.superseded_by}")
        # Agents write notes too (and name their paths): nothing here is printed unsanitised.
        about = display_text(n.service or n.incident_id or "-", 40)
        click.echo(
            f"{display_text(n.id, 16):<6} {n.kind.value:<9} {about:<20} {display_text(n.text, 100)}"
        )
        click.echo(
            f"       by {display_text(n.author, 80)} {n.created_at:%Y-%m-%d}"
            + (f"  [{display_text(' | '.join(flags), 300)}]" if flags else "")
        )


@notes.command()
@click.argument("note_id")
@friendly_errors
def accept(note_id: str) -> None:
    """Accept an agent-authored note: other agents will see it."""
    note = note_actions.accept_note(app_context().store, note_id, engineer())
    click.echo(f"{note.id} accepted")


@notes.command()
@click.argument("note_id")
@click.option("--reason", default="", help="Why (kept in the journal).")
@friendly_errors
def reject(note_id: str, reason: str) -> None:
    """Decline an agent's pending note or proposed update."""
    note = note_actions.reject_note(app_context().store, note_id, engineer(), reason)
    click.echo(f"{note.id} rejected")


@notes.command()
@click.argument("note_id")
@click.option("--reason", default="", help="Why it no longer holds (kept in the journal).")
@friendly_errors
def retire(note_id: str, reason: str) -> None:
    """Withdraw a note that no longer holds."""
    note = note_actions.retire_note(app_context().store, note_id, engineer(), reason)
    click.echo(f"{note.id} retired")
