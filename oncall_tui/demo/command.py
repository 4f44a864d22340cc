"""``oncall-tui demo``: a fresh temporary DB and export dir, with the demo incident played."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import click

from oncall_tui.cli.app_context import AppContext
from oncall_tui.config import ExportSettings, PolicySettings, Settings
from oncall_tui.demo.scenario import ScenarioPlayer, Step, load_scenario
from oncall_tui.store import queries
from oncall_tui.store.journal import Store


def demo_settings(workdir: Path) -> Settings:
    """Defaults plus what makes the story flow: stand-downs need no human."""
    return Settings(
        db=workdir / "oncall.db",
        export=ExportSettings(dir=workdir / "context"),
        policy=PolicySettings(mode="approve", auto_approve=["stand-down"]),
    )


def run_demo(app: AppContext, *, seed_only: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="oncall-tui-demo-"))
    settings = demo_settings(workdir)
    if not seed_only:
        from oncall_tui.demo.live import run_demo_dashboard

        run_demo_dashboard(settings, app.clock, load_scenario())
        click.echo(f"demo DB and context files kept in {workdir}")
        return
    store = Store.open(settings.db, app.clock)
    scenario = load_scenario()
    # Seeding tells the whole story at once: it started one story-length ago.
    start = app.clock.now() - timedelta(seconds=scenario.duration_s)
    player = ScenarioPlayer(scenario, store, settings, start)

    def say(step: Step) -> None:
        click.echo(f"  +{step.after_s:>4.0f}s  {step.say}")

    click.echo(f"demo DB: {settings.db}")
    player.play_all(say)
    _export(store, settings)
    _summary(store, settings)


def _export(store: Store, settings: Settings) -> None:
    try:
        from oncall_tui.agents.export.sync import sync
    except ImportError:  # pragma: no cover
        return
    sync(store, settings)


def _summary(store: Store, settings: Settings) -> None:
    conn = store.conn
    incidents = queries.list_incidents(conn, include_resolved=True)
    click.echo(f"\nincidents: {len(incidents)}")
    for i in incidents:
        sources = ", ".join(i.sources)
        click.echo(
            f"  {i.id} {i.severity.value} {i.state.value} {i.service}: {i.signal_count} signals from {sources}"
        )
    states = Counter(row[0] for row in conn.execute("SELECT state FROM pushes"))
    click.echo("pushes: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items())))
    sessions = store.tables().open_sessions()
    click.echo(f"sessions: {len(sessions)} ({', '.join(s.id for s in sessions)})")
    click.echo(f"context files: {settings.export.dir}")
