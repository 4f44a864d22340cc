"""The MCP tools and the incident resources over HTTP, for ``mcp --server URL`` on another machine.

Every route runs the very :class:`~oncall_tui.agents.mcp_store.StoreBackend` method that a local
``oncall-tui mcp`` runs, bound to the session its path names (as a server started with
``--session`` is), so the journal entries, their actor (``agent:<session id>``), the validation
and the answer are the ones the agent would get from a local server. The routes are guarded like
the session routes (:func:`~oncall_tui.server.sessions_routes.guard`): off loopback an agent
token or a source's credentials. Bodies are bounded as theirs are. A refusal of the action
(a push addressed to another session, a note without text) is answered 409 with the action's
own sentence; the text an agent sends is stored, never echoed back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oncall_tui.actions import Rules
from oncall_tui.agents.mcp_store import Format, StoreBackend
from oncall_tui.config import Settings
from oncall_tui.core.agents import InvalidIdError, NoteKind, validate_session_id
from oncall_tui.core.clock import Clock
from oncall_tui.server.sessions_routes import Refused, guard, json_body, store_runner

T = TypeVar("T")
TOOL_THREADS = 4
REASON_MAX = 300
MARKDOWN = "text/markdown; charset=utf-8"


class DeliveryBody(BaseModel):
    """``POST /sessions/{id}/deliveries``: take delivery of the context (the ``get_context``
    tool), recorded as delivered through MCP."""

    model_config = ConfigDict(extra="forbid")

    format: Format = "md"


class AcknowledgementBody(BaseModel):
    """``POST /sessions/{id}/acknowledgements``: ``P-3`` or ``3``, as the agent gave it."""

    model_config = ConfigDict(extra="forbid")

    push: str


class NoteBody(BaseModel):
    """``POST /sessions/{id}/notes``: the ``add_note`` tool's arguments."""

    model_config = ConfigDict(extra="forbid")

    service: str
    text: str
    kind: NoteKind = NoteKind.WARNING
    rationale: str = ""
    paths: list[str] = Field(default_factory=list)


class ProposalBody(BaseModel):
    """``POST /sessions/{id}/notes/{note_id}/proposals``: the ``propose_update`` tool's."""

    model_config = ConfigDict(extra="forbid")

    text: str
    rationale: str = ""


def routes(settings: Settings, clock: Clock, local_secret: str | None = None) -> list[Route]:
    rules = Rules.from_settings(settings)
    limiter = anyio.CapacityLimiter(TOOL_THREADS)
    guarded = guard(settings, local_secret, store_runner(settings, clock, limiter))
    max_body, read_timeout = settings.server.max_body_bytes, settings.server.read_timeout_s

    def backend(request: Request) -> StoreBackend:
        """Bound to the path's session: the methods are then called with no session of their
        own, and act for that one alone."""
        session_id = validate_session_id(request.path_params["session_id"])
        return StoreBackend(settings.db, rules, clock, session_id)

    unbound = StoreBackend(settings.db, rules, clock, None)
    """For the incident reads, which concern no session."""

    async def run(work: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(work, limiter=limiter)
        except InvalidIdError:
            raise
        except ValueError as exc:  # the action's refusal, in its own words
            raise Refused(409, str(exc)[:REASON_MAX]) from None

    async def deliver(request: Request) -> Response:
        tools = backend(request)
        body = await json_body(request, DeliveryBody, max_body, read_timeout)
        text = await run(lambda: tools.deliver(None, body.format))
        return Response(text, media_type="application/json" if body.format == "json" else MARKDOWN)

    async def acknowledge(request: Request) -> Response:
        tools = backend(request)
        body = await json_body(request, AcknowledgementBody, max_body, read_timeout)
        return _answer(await run(lambda: tools.acknowledge(body.push, None)), 200)

    async def add_note(request: Request) -> Response:
        tools = backend(request)
        body = await json_body(request, NoteBody, max_body, read_timeout)
        answer = await run(
            lambda: tools.add_note(
                body.service, body.text, body.kind, body.rationale, None, body.paths
            )
        )
        return _answer(answer, 201)

    async def propose(request: Request) -> Response:
        tools, note_id = backend(request), request.path_params["note_id"]
        body = await json_body(request, ProposalBody, max_body, read_timeout)
        answer = await run(lambda: tools.propose_update(note_id, body.text, body.rationale, None))
        return _answer(answer, 201)

    async def incident(request: Request) -> Response:
        incident_id = request.path_params["incident_id"]
        return Response(await run(lambda: unbound.incident(incident_id)), media_type=MARKDOWN)

    async def incidents(request: Request) -> Response:
        # Only the active ones, which is what an agent's resource list shows; asked for by name
        # so that a listing of every incident can be added later without changing this answer.
        if request.query_params.get("active") != "1":
            raise Refused(400, "only active incidents are listed: ask for /incidents?active=1")
        found = await run(unbound.active_incidents)
        return JSONResponse([incident.model_dump(mode="json") for incident in found])

    session = "/sessions/{session_id}"
    return [
        Route(f"{session}/deliveries", guarded(deliver), methods=["POST"]),
        Route(f"{session}/acknowledgements", guarded(acknowledge), methods=["POST"]),
        Route(f"{session}/notes", guarded(add_note), methods=["POST"]),
        Route(f"{session}/notes/{{note_id}}/proposals", guarded(propose), methods=["POST"]),
        Route("/incidents/{incident_id}", guarded(incident), methods=["GET"]),
        Route("/incidents", guarded(incidents), methods=["GET"]),
    ]


def _answer(message: str, status: int) -> Response:
    """The tool's answer, as the agent reads it from a local server."""
    return JSONResponse({"message": message}, status)
