"""HTTP for agents: register a session, heartbeat, read its context (DESIGN §5), and the hook
events of agents on other machines (:mod:`~oncall_tui.server.hook_events`). The MCP tools' routes
(:mod:`~oncall_tui.server.agent_tools_routes`) pass through the same :func:`guard`.

Mounted beside the webhooks, so the same rule guards it: on loopback anyone local may call; on
any other address a request must carry a live agent token (``oncall-tui tokens create``, one per
machine) or the bearer token or basic credentials of a configured source, since a forged
session could otherwise see the incident context or be targeted by it. Every store call runs in
a worker thread with a connection of its own, closed at once.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oncall_tui.actions import Rules
from oncall_tui.actions import sessions as session_actions
from oncall_tui.actions.notes import stale_notes
from oncall_tui.config import Settings, SourceSettings
from oncall_tui.core.agents import AgentKind, AgentSession, InvalidIdError, validate_session_id
from oncall_tui.core.clock import Clock
from oncall_tui.core.context.render import render_delta, render_json, render_markdown
from oncall_tui.core.validation_text import describe_problem, location
from oncall_tui.ingest.prepare import check_authorization, is_json_media_type
from oncall_tui.server.body import BodyRefusedError, ClientGoneError, read_body
from oncall_tui.server.hook_events import HookEventBody, decide_event
from oncall_tui.server.local_api import is_local_secret
from oncall_tui.sources.base import AuthError
from oncall_tui.store.context import build_session_context
from oncall_tui.store.db import StoreUnavailableError
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.queries import NotFoundError
from oncall_tui.store.schema import SchemaTooNewError
from oncall_tui.store.tokens import check_token

T = TypeVar("T")
SESSION_THREADS = 4
Handler = Callable[[Request], Awaitable[Response]]
VERSION_HEADER = "X-Context-Version"
"""The journal position a context answer is as of: the ``since`` of the next question."""


class RegisterBody(BaseModel):
    """``POST /sessions``. Unknown fields are refused: a typo (``path``) must not pass silently."""

    model_config = ConfigDict(extra="forbid")

    id: str
    agent: AgentKind = AgentKind.OTHER
    repo: str | None = None
    cwd: str | None = None
    branch: str | None = None
    task: str = ""
    paths: list[str] = Field(default_factory=list)


class HeartbeatBody(BaseModel):
    """``POST /sessions/{id}/heartbeat``; an empty body is a plain "still here"."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(default_factory=list)
    branch: str | None = None
    task: str | None = None


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def routes(settings: Settings, clock: Clock, local_secret: str | None = None) -> list[Route]:
    """The sessions routes for ``settings`` (the effective ones: their ``server.host`` decides
    whether credentials are required). A request bearing ``local_secret`` comes from this
    machine (:mod:`~oncall_tui.server.local_api`): it is admitted, and its checkout is read here."""
    rules = Rules.from_settings(settings)
    limiter = anyio.CapacityLimiter(SESSION_THREADS)
    max_body = settings.server.max_body_bytes
    read_timeout = settings.server.read_timeout_s
    in_store = store_runner(settings, clock, limiter)
    guarded = guard(settings, local_secret, in_store)

    async def create(request: Request) -> Response:
        body = await json_body(request, RegisterBody, max_body, read_timeout)
        session = await in_store(
            lambda store: session_actions.register(
                store,
                rules,
                body.id,
                agent=body.agent,
                repo=body.repo,
                cwd=body.cwd,
                branch=body.branch,
                task=body.task,
                paths=body.paths,
            )
        )
        return _session_response(session, 201)

    async def heartbeat(request: Request) -> Response:
        session_id = validate_session_id(request.path_params["session_id"])
        body = await json_body(request, HeartbeatBody, max_body, read_timeout)
        session = await in_store(
            lambda store: session_actions.heartbeat(
                store, rules, session_id, paths=body.paths, branch=body.branch, task=body.task
            )
        )
        return _session_response(session, 200)

    async def context(request: Request) -> Response:
        session_id = validate_session_id(request.path_params["session_id"])
        fmt = request.query_params.get("format", "md")
        if fmt not in ("md", "json"):
            raise Refused(400, f"unknown format {fmt[:20]!r}: use md or json")
        as_json = fmt == "json"
        since = _since(request.query_params.get("since"))
        if since is not None and as_json:
            raise Refused(400, "since= answers what is new, in markdown: leave out format=json")
        text, version = await in_store(
            partial(
                _context_document,
                session_id=session_id,
                as_json=as_json,
                since=since,
                contact=rules.contact,
            )
        )
        headers = {VERSION_HEADER: str(version)}
        if since is not None and not text:
            return Response(status_code=304, headers=headers)
        media = "application/json" if as_json else "text/markdown; charset=utf-8"
        return Response(text, media_type=media, headers=headers)

    async def event(request: Request) -> Response:
        session_id = validate_session_id(request.path_params["session_id"])
        body = await json_body(request, HookEventBody, max_body, read_timeout)
        local = is_local_secret(local_secret, bearer_token(request.headers.get("authorization")))
        decided = await anyio.to_thread.run_sync(
            partial(decide_event, session_id, body, settings.db, rules, clock, local=local),
            limiter=limiter,
        )
        return JSONResponse(decided)

    return [
        Route("/sessions", guarded(create), methods=["POST"]),
        Route("/sessions/{session_id}/heartbeat", guarded(heartbeat), methods=["POST"]),
        Route("/sessions/{session_id}/context", guarded(context), methods=["GET"]),
        Route("/sessions/{session_id}/events", guarded(event), methods=["POST"]),
    ]


class InStore(Protocol):
    def __call__(self, work: Callable[[Store], T]) -> Awaitable[T]: ...


def store_runner(settings: Settings, clock: Clock, limiter: anyio.CapacityLimiter) -> InStore:
    """Runs one piece of store work in a worker thread, on a connection of its own, closed
    at once."""

    async def in_store(work: Callable[[Store], T]) -> T:
        def run() -> T:
            store = Store.open(settings.db, clock)
            try:
                return work(store)
            finally:
                store.close()

        return await anyio.to_thread.run_sync(run, limiter=limiter)

    return in_store


def guard(
    settings: Settings, local_secret: str | None, in_store: InStore
) -> Callable[[Handler], Handler]:
    """The door of every agent route (the rule of this module's docstring), and the JSON
    answers of the refusals and store failures a handler raises."""

    async def admit(request: Request) -> None:
        """Off loopback: a source's credentials, or a live agent token (checked in the store)."""
        header = request.headers.get("authorization")
        accepted = _source_credentials(settings)
        if header and _source_admits(header, accepted):
            return
        token = bearer_token(header)
        if token is not None and await in_store(partial(check_token, token=token)) is not None:
            return
        if not header and not accepted and not await in_store(_tokens_issued):
            raise Refused(
                403, "sessions over HTTP off loopback need a token: see `oncall-tui tokens`"
            )
        raise Refused(401, "missing or invalid credentials")

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                local = is_local_secret(
                    local_secret, bearer_token(request.headers.get("authorization"))
                )
                if not settings.server.is_loopback and not local:
                    await admit(request)
                return await handler(request)
            except Refused as exc:
                return JSONResponse({"error": exc.reason}, exc.status)
            except NotFoundError as exc:
                return JSONResponse({"error": str(exc).strip("'\"")}, 404)
            except InvalidIdError as exc:
                return JSONResponse({"error": str(exc)}, 400)
            except (StoreUnavailableError, SchemaTooNewError) as exc:
                return JSONResponse({"error": f"store unavailable: {exc}"}, 503)

        return endpoint

    return guarded


def _context_document(
    store: Store,
    *,
    session_id: str,
    as_json: bool,
    since: int | None = None,
    contact: str | None = None,
) -> tuple[str, int]:
    """The session's current document, as its exported files say it, or only what became live
    after ``since`` (empty when nothing did), and the journal position it is as of. Reading has
    no side effect (no delivery recorded): a GET may be repeated, prefetched or retried by anyone."""
    ctx = build_session_context(store.conn, session_id, contact=contact)
    if ctx is None:
        raise NotFoundError(f"no session {session_id}")
    key, stale = fence_key(store), stale_notes(ctx.notes, store.clock.now())
    if since is not None:
        newer = render_delta(ctx, key, since) if ctx.seq > since else None
        return newer or "", ctx.seq
    if as_json:
        return render_json(ctx, key, stale_notes=stale).model_dump_json(indent=2) + "\n", ctx.seq
    return render_markdown(ctx, key, stale_notes=stale), ctx.seq


def _since(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        raise Refused(400, f"since must be a journal position (a number), not {value[:20]!r}")
    return int(value)


def _session_response(session: AgentSession, status: int) -> Response:
    return JSONResponse(session.model_dump(mode="json"), status)


def _source_credentials(settings: Settings) -> list[SourceSettings]:
    return [s for s in settings.sources.values() if s.token is not None or s.basic_user]


def _source_admits(header: str, accepted: list[SourceSettings]) -> bool:
    """Whether any configured source's bearer token or basic credentials are ``header``."""
    for creds in accepted:
        try:
            check_authorization(header, creds)
        except AuthError:
            continue
        return True
    return False


def bearer_token(header: str | None) -> str | None:
    scheme, _, value = (header or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _tokens_issued(store: Store) -> bool:
    """Whether any agent token is live: without one, and without source credentials, nothing
    could admit a caller, which the refusal says."""
    live = store.conn.execute("SELECT 1 FROM agent_tokens WHERE revoked_at IS NULL LIMIT 1")
    return live.fetchone() is not None


BodyT = TypeVar("BodyT", bound=BaseModel)


async def json_body(request: Request, model: type[BodyT], limit: int, timeout_s: float) -> BodyT:
    """The JSON body as ``model``; bounded in size and time like a webhook body.

    A JSON type is required even for an empty body: ``text/plain`` is what a web page can post
    cross-site without a preflight.
    """
    if not is_json_media_type(request.headers.get("content-type")):
        raise Refused(415, "send the body as application/json")
    try:
        raw = await read_body(
            request.receive, request.headers.get("content-length", ""), limit, timeout_s
        )
    except BodyRefusedError as exc:
        raise Refused(exc.status, exc.reason) from None
    except ClientGoneError:
        raise Refused(400, "client went away") from None
    try:
        data: Any = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise Refused(400, "invalid body: not JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = location(error["loc"]) or "body"
        problem = describe_problem(error, show_input=False)
        raise Refused(400, f"invalid body: {where}: {problem}"[:300]) from None
