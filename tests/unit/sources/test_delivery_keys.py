"""Every adapter stamps each signal with the key its ``delivery_key`` gives the delivery.

The Ingestor relies on it: it takes a parsed delivery's key from its first signal instead of
reading the body a second time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.sources import SOURCE_MODULES, get_source
from oncall_tui.sources.base import RawDelivery, ServiceMapping

SAMPLE_DATA = Path(__file__).resolve().parents[3] / "sample_data"
SAMPLES = sorted(
    path
    for name in SOURCE_MODULES
    for path in (SAMPLE_DATA / name).glob("*.json")
    if not path.name.endswith(".headers.json")
)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_signals_carry_the_delivery_key(path: Path) -> None:
    headers_file = path.with_name(f"{path.stem}.headers.json")
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    raw = RawDelivery(
        source=path.parent.name,
        body=path.read_bytes(),
        headers={name.lower(): value for name, value in headers.items()},
        received_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )
    source = get_source(raw.source)
    signals = source.parse(raw, ServiceMapping())
    assert signals, "every sample yields signals"
    assert {signal.delivery_key for signal in signals} == {source.delivery_key(raw)}


def test_every_source_has_samples() -> None:
    assert {path.parent.name for path in SAMPLES} == set(SOURCE_MODULES)
