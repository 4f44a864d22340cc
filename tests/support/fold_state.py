"""What a fold leaves in a store, and the PagerDuty deliveries the fold tests feed it.

The deliveries are the project's PagerDuty V3 webhook sample (``sample_data/pagerduty``, shaped
as https://developer.pagerduty.com/docs/webhooks-overview shows it) with its event and incident
ids changed, so that one sample makes many distinct deliveries and alerts.
"""

from __future__ import annotations

import json

from oncall_tui.store.journal import Store
from oncall_tui.store.queries import dump_projection
from tests.support.samples import SAMPLES


def pagerduty_delivery(
    sample: str, event_id: str | None = None, incident_id: str | None = None
) -> bytes:
    """The ``sample`` (``triggered``, ``acknowledged``, ``resolved``) with the ids given."""
    payload = json.loads((SAMPLES / "pagerduty" / f"{sample}.json").read_bytes())
    if event_id is not None:
        payload["event"]["id"] = event_id
    if incident_id is not None:
        payload["event"]["data"]["id"] = incident_id
    return json.dumps(payload).encode()


def stored_state(store: Store) -> tuple[object, ...]:
    """The journal, the deliveries' outcomes (retries counted) and the projection, to compare two
    folds by."""
    journal = store.conn.execute("SELECT seq, ts, actor, kind, body FROM journal ORDER BY seq")
    rows = store.conn.execute(
        "SELECT id, source, delivery_key, status, http_status, reason, signal_count, attempts"
        " FROM deliveries ORDER BY id"
    )
    return journal.fetchall(), rows.fetchall(), dump_projection(store.conn)
