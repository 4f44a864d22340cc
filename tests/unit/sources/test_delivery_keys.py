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


FRESH_DELIVERY_HEADERS = {
    "x-webhook-id": "f00dfeed-0000-4000-8000-00000000f00d",
    "x-github-delivery": "0badc0de-0000-4000-8000-00000000c0de",
    "x-request-id": "replayed",
}
"""Headers a sender sets per delivery and signs nothing over: whoever replays a captured body
can pick new ones."""


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_body_replayed_under_fresh_delivery_headers_keeps_its_key(path: Path) -> None:
    """Keys come from the body where it has an id (PagerDuty ``event.id``, GitHub's deployment
    status ``id``, CloudEvents ``source`` + ``id``) or from its content, never from a header
    alone: a replay of a signed body must be a duplicate, not a new delivery."""
    headers_file = path.with_name(f"{path.stem}.headers.json")
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    captured = {name.lower(): value for name, value in headers.items()}
    when = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    source = get_source(path.parent.name)
    original = RawDelivery(path.parent.name, path.read_bytes(), captured, when)
    replayed = RawDelivery(
        path.parent.name, path.read_bytes(), {**captured, **FRESH_DELIVERY_HEADERS}, when
    )
    assert source.delivery_key(replayed) == source.delivery_key(original)
