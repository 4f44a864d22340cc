"""Re-running the raw deliveries into an empty DB gives the same incidents, pushes and files.

Raw bytes are the record: if an adapter or the engine is fixed, rerunning them must rebuild the
same state, and the same state must render to the same bytes for agents.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from oncall_tui.actions import Rules
from oncall_tui.actions import sessions as session_actions
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.agents.export.sync import sync
from oncall_tui.config import ExportSettings, PolicySettings, Settings
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import FixedClock
from oncall_tui.demo.scenario import ScenarioPlayer, load_scenario
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store import deliveries
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import FENCE_KEY
from oncall_tui.store.queries import dump_projection
from tests.support.postgres import StoreOpener
from tests.support.samples import SAMPLES

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
SESSIONS = [
    ("cc-processor", "acme-payments/payments-api", "services/processor/retry.py"),
    ("codex-ledger", "acme-payments/payments-api", "services/ledger/postings.py"),
    ("cc-checkout", "acme/checkout", "web/checkout/pay.tsx"),
]


def prepared_store(root: Path, open_store: StoreOpener) -> tuple[Store, Settings]:
    """Catalog and sessions (not deliveries: they are what is rerun), auto policy, fixed key."""
    settings = Settings(
        db=root / "oncall.db",
        export=ExportSettings(dir=root / "context"),
        policy=PolicySettings(mode="auto"),
    )
    store = open_store(FixedClock(NOW))
    with store.write() as writer:
        writer.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (FENCE_KEY, "cd" * 32))
    rules = Rules.from_settings(settings)
    load_catalog_file(store, rules, SAMPLES / "catalog.yaml", "test")
    for session_id, repo, path in SESSIONS:
        session_actions.register(
            store, rules, session_id, agent=AgentKind.CLAUDE_CODE, repo=repo, paths=[path]
        )
    return store, settings


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_rerunning_raw_deliveries_rebuilds_the_same_state_and_files(
    tmp_path: Path, open_store: StoreOpener
) -> None:
    original, settings = prepared_store(tmp_path / "original", open_store)
    scenario = load_scenario()
    player = ScenarioPlayer(
        scenario, original, settings, NOW - timedelta(seconds=scenario.duration_s)
    )
    for step in scenario.steps:
        if step.ingest is not None:
            player.play(step)
    sync(original, settings)

    rebuilt, rebuilt_settings = prepared_store(tmp_path / "rebuilt", open_store)
    ingestor = Ingestor(rebuilt, rebuilt_settings)
    stored = sorted(deliveries.listing(original.conn, limit=10_000), key=lambda d: d.id)
    assert len(stored) >= 7
    for delivery in stored:
        result = ingestor.ingest(delivery.source, delivery.body, delivery.headers, verify="none")
        assert result.status == delivery.status
    sync(rebuilt, rebuilt_settings)

    projection = dump_projection(original.conn)
    assert projection["incidents"], "the story opened an incident"
    assert projection["pushes"], "and proposed pushes"
    assert dump_projection(rebuilt.conn) == projection
    assert files(tmp_path / "rebuilt" / "context") == files(tmp_path / "original" / "context")
