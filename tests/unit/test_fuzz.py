"""Fuzzing every sender adapter and the ingest path: bad input is refused, never a crash.

An adapter may only answer with signals or a ParseError; the pipeline must store the raw bytes
of whatever arrives and answer a 4xx for what it cannot read, never an error of its own.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall_tui.config import Settings
from oncall_tui.ingest.record import Ingestor
from oncall_tui.sources import SOURCE_MODULES, get_source
from oncall_tui.sources.base import ParseError, RawDelivery, ServiceMapping
from oncall_tui.store import deliveries
from oncall_tui.store.journal import Store
from tests.support.samples import SAMPLES

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


def _sample(source: str) -> dict[str, Any]:
    folder = SAMPLES / source
    for path in sorted(folder.glob("*.json")):
        if not path.name.endswith(".headers.json"):
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                return loaded
    return {}


def _mutate(document: Any, path: list[str], value: Any) -> Any:
    """The sample with one field (found by walking ``path`` through its keys) replaced."""
    if not path or not isinstance(document, dict) or not document:
        return value
    key = sorted(document)[sum(map(ord, path[0])) % len(document)]
    return {**document, key: _mutate(document[key], path[1:], value)}


def _parse(source: str, body: bytes) -> None:
    headers = {"x-github-event": "deployment_status"} if source == "github" else {}
    delivery = RawDelivery(source=source, body=body, headers=headers, received_at=NOW)
    adapter = get_source(source)
    with contextlib.suppress(ParseError):  # the one refusal an adapter may answer with
        adapter.parse(delivery, ServiceMapping())
    adapter.delivery_key(delivery)


@pytest.mark.parametrize("source", sorted(SOURCE_MODULES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=300))
def test_random_bytes_are_refused_cleanly(source: str, body: bytes) -> None:
    _parse(source, body)


@pytest.mark.parametrize("source", sorted(SOURCE_MODULES))
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(path=st.lists(st.text(max_size=3), min_size=1, max_size=4), value=json_values)
def test_real_payloads_with_a_field_gone_wrong_are_refused_cleanly(
    source: str, path: list[str], value: Any
) -> None:
    _parse(source, json.dumps(_mutate(_sample(source), path, value)).encode())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    source=st.sampled_from([*sorted(SOURCE_MODULES), "nagios"]),
    body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_the_pipeline_keeps_every_delivery_and_answers_4xx_or_2xx(
    tmp_path_factory: pytest.TempPathFactory, source: str, body: bytes
) -> None:
    db = tmp_path_factory.mktemp("fuzz") / "oncall.db"
    store = Store.open(db)
    result = Ingestor(store, Settings(db=db)).ingest(source, body, {}, verify="none")
    assert result.http_status < 500
    assert result.delivery_id is not None
    stored = deliveries.get(store.conn, result.delivery_id)
    assert stored is not None and stored.body == body[: len(stored.body)]
    store.close()
