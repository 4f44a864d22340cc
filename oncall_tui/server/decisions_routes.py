"""``POST /pushes/{id}/approve`` and ``/reject``: an engineer's decision, from this machine only.

``oncall-tui approve`` and ``reject`` hand their write to the running ``serve`` when there is one
(:mod:`oncall_tui.agents.local_api`): the decision goes through the same action, journaled
durably under the engineer's name. The files are left to the exporter that runs beside
(``serve``'s own, or the dashboard's), which sees the new journal entry at its next poll; the
command that decides itself has no exporter running, so it exports before it returns. The hook
server runs none either (``export_after``): it exports once it has answered, so the files
follow the decision as closely as ``serve``'s exporter would make them.

Only a request bearing ``serve``'s own secret is heard, on loopback too: any local user can
reach a loopback port, while only the DB's owner can read the secret (and could make the
decision directly). Agent tokens never admit a decision.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oncall_tui.actions import Rules
from oncall_tui.actions import pushes as push_actions
from oncall_tui.config import Settings
from oncall_tui.core.agents import Push
from oncall_tui.core.clock import Clock
from oncall_tui.server.local_api import is_local_secret
from oncall_tui.server.sessions_routes import Refused, bearer_token, json_body
from oncall_tui.store.db import StoreUnavailableError
from oncall_tui.store.journal import Store

log = logging.getLogger(__name__)

DECISION_THREADS = 2
ACTOR_MAX = 200


class DecisionBody(BaseModel):
    """Who decides (the journal's actor, ``user:<name>``), and why for a rejection."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=ACTOR_MAX)
    reason: str = Field(default="", max_length=2000)


Decide = Callable[[Store, str, DecisionBody], Push]
"""One action on the push ``ref`` (as the engineer typed it: ``P-3`` or ``3``)."""


def routes(
    settings: Settings, clock: Clock, local_secret: str | None, *, export_after: bool = False
) -> list[Route]:
    """The two decisions; ``export_after``: bring the files in line after answering (no
    exporter runs beside)."""
    rules = Rules.from_settings(settings)
    limiter = anyio.CapacityLimiter(DECISION_THREADS)
    max_body, read_timeout = settings.server.max_body_bytes, settings.server.read_timeout_s

    def endpoint(decide: Decide) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            presented = bearer_token(request.headers.get("authorization"))
            if not is_local_secret(local_secret, presented):
                refusal = "decisions over HTTP are for oncall-tui commands on this machine"
                return JSONResponse({"error": refusal}, 403)
            try:
                body = await json_body(request, DecisionBody, max_body, read_timeout)
                ref = request.path_params["push_id"]
                run = partial(_decide, settings, clock, decide, ref, body)
                push = await anyio.to_thread.run_sync(run, limiter=limiter)
            except Refused as exc:
                return JSONResponse({"error": exc.reason}, exc.status)
            except LookupError as exc:  # the queries' NotFoundError, as the command says it
                return JSONResponse({"error": str(exc.args[0] if exc.args else exc)}, 404)
            except StoreUnavailableError as exc:
                return JSONResponse({"error": f"store unavailable: {exc}"}, 503)
            except ValueError as exc:  # the actions' refusals (ActionError)
                return JSONResponse({"error": str(exc)}, 409)
            # Performance: the export (~50 ms, its files synced to disk) runs once the command
            # has its answer, as serve's exporter does beside its decisions.
            export = BackgroundTask(_export, settings, clock) if export_after else None
            return JSONResponse({"id": push.id, "state": push.state.value}, background=export)

        return answer

    def approve(store: Store, ref: str, body: DecisionBody) -> Push:
        return push_actions.approve(store, ref, body.by, rules)

    def reject(store: Store, ref: str, body: DecisionBody) -> Push:
        return push_actions.reject(store, ref, body.by, body.reason)

    return [
        Route("/pushes/{push_id}/approve", endpoint(approve), methods=["POST"]),
        Route("/pushes/{push_id}/reject", endpoint(reject), methods=["POST"]),
    ]


def _decide(settings: Settings, clock: Clock, decide: Decide, ref: str, body: DecisionBody) -> Push:
    store = Store.open(settings.db, clock)
    try:
        return decide(store, ref, body)
    finally:
        store.close()


def _export(settings: Settings, clock: Clock) -> None:
    from oncall_tui.agents.export.sync import sync

    store = Store.open(settings.db, clock)
    try:
        sync(store, settings)
    except Exception:  # the decision stands; the next one (or serve) exports again
        log.exception("the files were not brought in line with a decision")
    finally:
        store.close()
