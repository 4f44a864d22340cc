"""A decision command handing its write to this DB's running ``serve``.

``approve`` and ``reject`` would import the models, the store's journal side and the exporter
before deciding anything; ``serve`` has them loaded and decides through the same action
(:mod:`oncall_tui.server.decisions_routes`). Without a ``serve`` to ask, or when it cannot be
reached, the command decides itself as before; a refusal from ``serve`` (no such push, already
decided) is the command's own error.
"""

from __future__ import annotations

import json
import sqlite3
from urllib.parse import quote

from oncall_tui.agents.http_post import ServerRefusedError, ServerUnreachableError
from oncall_tui.agents.local_api import find, post_json

DECISION_TIMEOUT_S = 15.0
"""A decision is committed durably and exported before ``serve`` answers: under a storm that can
take seconds, and giving up early would decide again here (refused then as already decided)."""
REFUSALS = (404, 409)
"""What ``serve`` refuses as the command itself would; anything else is tried here instead."""


class RefusedByServe(ValueError):
    """``serve`` refused the decision (no such push, already decided): shown as the error."""


def decide_via_serve(
    conn: sqlite3.Connection, action: str, push_ref: str, body: dict[str, object]
) -> tuple[str, str] | None:
    """The decided push's id and state from ``serve`` (``P-3``, ``approved``), or None to
    decide here."""
    api = find(conn)
    if api is None:
        return None
    path = f"/pushes/{quote(push_ref, safe='')}/{action}"
    try:
        answer = post_json(api, path, body, timeout_s=DECISION_TIMEOUT_S)
    except ServerUnreachableError:
        return None
    except ServerRefusedError as exc:
        if exc.status in REFUSALS:
            raise RefusedByServe(_error_text(exc.body)) from None
        return None
    push_id, state = answer.get("id"), answer.get("state")
    return (push_id, state) if isinstance(push_id, str) and isinstance(state, str) else None


def _error_text(body: bytes) -> str:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    return str(error) if error else "serve refused the decision"
