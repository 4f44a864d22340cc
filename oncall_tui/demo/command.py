"""``oncall-tui demo``: a fresh DB and export dir, with the demo incident played.

The DB is temporary unless ``--db`` names a new file; the context files always go to a
temporary directory, so a demo never reaches a real agent's context.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import click

from oncall_tui.cli.app_context import (
    AppContext,
    UserError,
    open_store,
    require_terminal,
)
from oncall_tui.config import ExportSettings, PolicySettings, Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.plural import counted
from oncall_tui.demo.scenario import ScenarioPlayer, Step, load_scenario
from oncall_tui.store import queries
from oncall_tui.store.journal import Store


def demo_settings(workdir: Path, db: Path | None = None) -> Settings:
    """Defaults plus what makes the story flow: stand-downs need no human."""
    return Settings(
        db=db or workdir / "oncall.db",
        export=ExportSettings(dir=workdir / "context"),
        policy=PolicySettings(mode="approve", auto_approve=["stand-down"]),
    )


def run_demo(app: AppContext, *, seed_only: bool) -> None:
    db = app.db_override
    if isinstance(db, str):
        raise UserError("the demo writes a new SQLite file: --db takes its path, not a URL")
    if db is not None:
        _check_fresh(app, db)
    if not seed_only:
        require_terminal("the demo dashboard (--seed-only works without one)")
    workdir = Path(tempfile.mkdtemp(prefix="oncall-tui-demo-"))
    settings = demo_settings(workdir, db)
    if not seed_only:
        from oncall_tui.demo.live import run_demo_dashboard

        run_demo_dashboard(settings, app.clock, load_scenario())
        click.echo(f"demo DB kept in {settings.db}, context files in {settings.export.dir}")
        return
    scenario = load_scenario()
    now = app.clock.now()
    # Seeding tells the whole story at once: it started one story-length ago, and each step is
    # written at its own moment of it.
    start = now - timedelta(seconds=scenario.duration_s)
    story_clock = FixedClock(start)
    store = Store.open(settings.db, story_clock)
    player = ScenarioPlayer(scenario, store, settings, start)

    def say(step: Step) -> None:
        click.echo(f"  +{step.after_s:>4.0f}s  {step.say}")

    click.echo(f"demo DB: {settings.db}")
    try:
        player.play_all(say, clock=story_clock)
        story_clock.set(now)
        _export(store, settings)
        _summary(store, settings)
    finally:
        store.close()


def _check_fresh(app: AppContext, db: Path) -> None:
    """The demo writes a story of its own: never into a DB that already holds one."""
    if db.is_file() and db.stat().st_size > 0:
        raise UserError(f"{db} already exists: the demo writes a new DB (name a new file)")
    # A missing directory or an unusable path answers now, before anything is written.
    open_store(db, app.clock, make_dirs=app.init).close()


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
        signals = counted(i.signal_count, "signal")
        click.echo(
            f"  {i.id} {i.severity.value} {i.state.value} {i.service}: {signals} from {sources}"
        )
    states = Counter(row[0] for row in conn.execute("SELECT state FROM pushes"))
    click.echo("pushes: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items())))
    sessions = store.tables().open_sessions()
    click.echo(f"sessions: {len(sessions)} ({', '.join(s.id for s in sessions)})")
    click.echo(f"context files: {settings.export.dir}")
