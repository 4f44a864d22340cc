"""Every adapter stamps each signal with the key its ``delivery_key`` gives the delivery.

The Ingestor relies on it: it takes a parsed delivery's key from its first signal instead of
reading the body a second time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oncall_tui.sources import SOURCE_MODULES, get_source
from oncall_tui.sources.base import ServiceMapping
from tests.support.samples import SAMPLES
from tests.unit.sources.conftest import Adapter

SAMPLE_FILES = sorted(
    path
    for name in SOURCE_MODULES
    for path in (SAMPLES / name).glob("*.json")
    if not path.name.endswith(".headers.json")
)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_signals_carry_the_delivery_key(path: Path) -> None:
    raw = Adapter(path.parent.name).sample(path.stem)
    source = get_source(raw.source)
    signals = source.parse(raw, ServiceMapping())
    assert signals, "every sample yields signals"
    assert {signal.delivery_key for signal in signals} == {source.delivery_key(raw)}


def test_every_source_has_samples() -> None:
    assert {path.parent.name for path in SAMPLE_FILES} == set(SOURCE_MODULES)


FRESH_DELIVERY_HEADERS = {
    "x-webhook-id": "f00dfeed-0000-4000-8000-00000000f00d",
    "x-github-delivery": "0badc0de-0000-4000-8000-00000000c0de",
    "x-request-id": "replayed",
}
"""Headers a sender sets per delivery and signs nothing over: whoever replays a captured body
can pick new ones."""


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_body_replayed_under_fresh_delivery_headers_keeps_its_key(path: Path) -> None:
    """Keys come from the body where it has an id (PagerDuty ``event.id``, GitHub's deployment
    status ``id``, CloudEvents ``source`` + ``id``) or from its content, never from a header
    alone: a replay of a signed body must be a duplicate, not a new delivery."""
    adapter = Adapter(path.parent.name)
    source = get_source(adapter.source)
    original = adapter.sample(path.stem)
    replayed = adapter.delivery(original.body, {**original.headers, **FRESH_DELIVERY_HEADERS})
    assert source.delivery_key(replayed) == source.delivery_key(original)
