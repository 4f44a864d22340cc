"""A captured, validly signed delivery sent again under a new delivery id is a duplicate.

PagerDuty's ``X-Webhook-Id`` and GitHub's ``X-GitHub-Delivery`` are outside the signature; the
ids that identify the event are inside it (https://developer.pagerduty.com/docs/webhooks-overview,
"Webhook Payload": ``event.id``; https://docs.github.com/en/webhooks/webhook-events-and-payloads
#deployment_status: ``deployment_status.id``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from oncall_tui.cli import cli
from oncall_tui.config import Settings
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.integration.conftest import Endpoint, ReceiverFactory
from tests.support.samples import SAMPLE_SECRET, sample, sample_headers

SIGNED = {"pagerduty": {"secret": SAMPLE_SECRET}, "github": {"secret": SAMPLE_SECRET}}
CAPTURED = {
    "pagerduty": ("pagerduty/triggered.json", "X-Webhook-Id"),
    "github": ("github/deployment_status_success.json", "X-GitHub-Delivery"),
}


def stored(endpoint: Endpoint, source: str) -> list[tuple[object, ...]]:
    return endpoint.rows(
        "SELECT id, delivery_key, attempts FROM deliveries WHERE source = ? ORDER BY id", (source,)
    )


@pytest.mark.parametrize("source", sorted(CAPTURED))
def test_a_signed_body_replayed_under_a_new_delivery_id_is_stored_once(
    receiver: ReceiverFactory, source: str
) -> None:
    endpoint = receiver(sources=SIGNED)
    relative, id_header = CAPTURED[source]
    body = sample(relative).read_bytes()
    headers = sample_headers(relative.replace(".json", ".headers.json"))
    first = endpoint.post(source, body, headers)
    assert first.status == 202, first.body
    retry = endpoint.post(source, body, headers)  # the sender's own retry: same id
    replay = endpoint.post(source, body, {**headers, id_header: "replayed-under-a-new-id"})
    assert (retry.status, retry.json["status"]) == (202, "duplicate")
    assert (replay.status, replay.json["status"]) == (202, "duplicate"), replay.body
    assert replay.json["delivery_id"] == first.json["delivery_id"]
    [(_, key, attempts)] = stored(endpoint, source)
    assert attempts == 3
    assert "replayed" not in str(key)


def test_a_delivery_keyed_by_its_header_in_an_existing_db_is_rekeyed_by_a_rerun(
    tmp_path: Path,
) -> None:
    db = tmp_path / "existing.db"
    body = sample("pagerduty/triggered.json").read_bytes()
    headers = {"Content-Type": "application/json", "X-Webhook-Id": "w-stored-before"}
    store = Store.open(db)
    ingested = Ingestor(store, Settings(db=db)).ingest("pagerduty", body, headers)
    assert ingested.status == "accepted", ingested.reason
    with store.write() as writer:  # the key an older version gave it: the header's
        writer.conn.execute("UPDATE deliveries SET delivery_key = 'pagerduty:w-stored-before'")
    store.close()

    rerun = CliRunner().invoke(cli, ["--db", str(db), "deliveries", "rerun", "1"])
    assert rerun.exit_code == 0, rerun.output
    assert json.loads(rerun.output)["results"][0]["signals"] == 0  # nothing recorded twice

    store = Store.open(db)
    replay = Ingestor(store, Settings(db=db)).ingest(
        "pagerduty", body, {**headers, "X-Webhook-Id": "w-replayed"}
    )
    keys = [row[0] for row in store.conn.execute("SELECT delivery_key FROM deliveries")]
    store.close()
    assert keys == ["pagerduty:event:01JDQ3V8K2N7P4R6T9W1Y3Z5B8"]
    assert (replay.status, replay.delivery_id) == ("duplicate", 1)
