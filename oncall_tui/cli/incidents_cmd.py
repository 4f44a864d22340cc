"""``incident show|ack|mitigate|resolve|reopen|freeze`` (``incidents`` lives in
:mod:`.incidents_list`, which starts without the models)."""

from __future__ import annotations

from typing import Any

import click

from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.actor import current_user, engineer
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.cli.incidents_list import incidents
from oncall_tui.core.models import Incident, IncidentState
from oncall_tui.core.opened import first_signal_note
from oncall_tui.core.regressions import summary_line
from oncall_tui.core.sanitize import display_text
from oncall_tui.store import queries
from oncall_tui.store.reports import incident_evidence

__all__ = ["incident", "incident_json", "incidents"]


def incident_json(incident: Incident) -> dict[str, Any]:
    return incident.model_dump(mode="json")


@click.group()
def incident() -> None:
    """Show or act on one incident."""


@incident.command()
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def show(incident_id: str, as_json: bool) -> None:
    """Details of one incident: signals, suspect changes, links."""
    conn = app_context().store.conn
    found = queries.get_incident(conn, incident_id)
    signals = queries.incident_signals(conn, found.id)
    changes = queries.incident_changes(conn, found.id)
    evidence = incident_evidence(conn, found.id)
    if as_json:
        print_json(
            {
                "incident": incident_json(found),
                "signals": [{"id": s.id, **s.signal.model_dump(mode="json")} for s in signals],
                "changes": [
                    {"relation": link.relation, "id": s.id, **s.signal.model_dump(mode="json")}
                    for link, s in changes
                ],
                "agent_assisted": evidence.model_dump(mode="json") if evidence else None,
            }
        )
        return
    click.echo(f"{display_text(found.id, 16)}  {display_text(found.title, 200)}")
    click.echo(f"  state     {found.state.value}   severity {found.severity.value}")
    click.echo(f"  services  {', '.join(display_text(s, 60) for s in found.services) or '-'}")
    note = first_signal_note(found.opened_at, found.signal_started_at)
    click.echo(f"  opened    {found.opened_at.isoformat()}" + (f"  ({note})" if note else ""))
    for label, when in (
        ("acked", found.acknowledged_at),
        ("mitigated", found.mitigated_at),
        ("resolved", found.resolved_at),
    ):
        if when:
            click.echo(f"  {label:<9} {when.isoformat()}")
    sources = ", ".join(display_text(s, 40) for s in found.sources)
    click.echo(f"  sources   {sources}   signals {found.signal_count}")
    for url in found.links:
        click.echo(f"  link      {display_text(url.href, 200)}")
    if changes:
        click.echo("changes:")
        for link, s in changes:
            click.echo(
                f"  {s.signal.occurred_at:%H:%M:%S} {display_text(link.relation, 16):<8}"
                f" {s.signal.kind.value:<8}"
                f" {display_text(s.signal.title, 100)}"
            )
    if evidence is not None:
        click.echo(f"agent-assisted: {display_text(summary_line(evidence), 600)}")
    click.echo("signals:")
    for s in signals:
        click.echo(
            f"  {s.signal.occurred_at:%Y-%m-%d %H:%M:%S} {display_text(s.signal.source, 40):<12}"
            f" {s.signal.status.value:<12}"
            f" {s.signal.severity.value:<8} {display_text(s.signal.title, 100)}"
        )


def _state_command(name: str, state: IncidentState, help_text: str) -> click.Command:
    @click.argument("incident_id")
    @click.option("--reason", default="", help="Why (kept in the journal).")
    @click.option("--as", "actor", default=None, help="Who is acting (default: $USER).")
    @friendly_errors
    def command(incident_id: str, reason: str, actor: str | None) -> None:
        app = app_context()
        who = actor or current_user()
        updated = change_incident_state(
            app.store, incident_id, state, f"user:{who}", app.rules, reason
        )
        click.echo(f"{updated.id} is now {updated.state.value}")

    return click.command(name=name, help=help_text)(command)


for _name, _state, _help in (
    ("ack", IncidentState.ACKNOWLEDGED, "Acknowledge an incident."),
    ("mitigate", IncidentState.MITIGATED, "Mark an incident mitigated."),
    ("resolve", IncidentState.RESOLVED, "Resolve an incident."),
    ("reopen", IncidentState.TRIGGERED, "Reopen a resolved incident."),
):
    incident.add_command(_state_command(_name, _state, _help))


@incident.command()
@click.argument("incident_id")
@click.option("--off", is_flag=True, help="Lift the freeze.")
@friendly_errors
def freeze(incident_id: str, off: bool) -> None:
    """Declare a deploy freeze: affected agents are told not to deploy or merge."""
    from oncall_tui.actions.incidents import declare_freeze

    app = app_context()
    updated = declare_freeze(app.store, incident_id, not off, engineer(), app.rules)
    click.echo(f"{updated.id}: deploy freeze {'declared' if updated.deploy_freeze else 'lifted'}")
