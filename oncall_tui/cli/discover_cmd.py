"""``sessions discover``: sessions found from the agents' own transcripts, without a hook."""

from __future__ import annotations

from typing import Any

import click

from oncall_tui.agents.discover.apply import DiscoveryReport, FoundSession, Outcome, discover
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.clock import age, iso
from oncall_tui.core.plural import counted
from oncall_tui.core.sanitize import display_text

WOULD = {
    Outcome.REGISTERED: "would register",
    Outcome.HEARTBEAT: "would heartbeat",
}
"""How a dry run names what it would have done."""


@click.command(name="discover")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--dry-run", is_flag=True, help="Show what would be registered; write nothing.")
@friendly_errors
def discover_command(as_json: bool, dry_run: bool) -> None:
    """Find Claude Code and Codex sessions from their transcripts and register active ones.

    Reads only metadata (session id, working directory, branch, times, the files tools named)
    from the folders set under [discover]; never message text.
    """
    app = app_context()
    report = discover(app.store, app.rules, app.settings.discover, dry_run=dry_run)
    if as_json:
        print_json(report_json(report))
        return
    now = app.clock.now()
    for found in report.found:
        click.echo(
            f"{display_text(found.session_id, 40):<40} {found.agent.value:<11}"
            f" {display_text(found.repo or '-', 32):<32} {len(found.paths):>3} files"
            f"  active {age(found.last_activity, now):>4} ago  {_outcome(found, dry_run)}"
        )
    registered = sum(f.outcome is Outcome.REGISTERED for f in report.found)
    verb = "would register" if dry_run else "registered"
    summary = f"{counted(len(report.found), 'session')} found, {registered} {verb}"
    if report.commits:
        summary += f", {counted(len(report.commits), 'commit')} recorded"
    if report.skipped_lines or report.skipped_files:
        summary += f"; skipped {report.skipped_lines} lines, {report.skipped_files} files"
    click.echo(summary)


def _outcome(found: FoundSession, dry_run: bool) -> str:
    return WOULD.get(found.outcome, found.outcome.value) if dry_run else found.outcome.value


def report_json(report: DiscoveryReport) -> dict[str, Any]:
    """The stable JSON of a discovery: what was found, what was done, what was skipped."""
    return {
        "dry_run": report.dry_run,
        "sessions": [
            {
                "id": f.session_id,
                "agent": f.agent.value,
                "repo": f.repo,
                "cwd": f.cwd,
                "branch": f.branch,
                "paths": f.paths,
                "last_activity": iso(f.last_activity),
                "transcript": str(f.transcript),
                "outcome": f.outcome.value,
            }
            for f in report.found
        ],
        "skipped_lines": report.skipped_lines,
        "skipped_files": report.skipped_files,
        "commits_recorded": [
            {"sha": c.sha, "repo": c.repo, "session": c.session_id} for c in report.commits
        ],
    }
