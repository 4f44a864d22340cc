"""``mcp --server URL``: the MCP tools of an agent on another machine, read through HTTP.

The backend of :func:`~oncall_tui.agents.mcp.server_for` that, instead of opening a DB, calls
the session routes of ``oncall-tui serve`` with this machine's agent token (the same token as
the remote hook: ``ONCALL_TUI_TOKEN`` or the 0600 token file). ``get_context`` heartbeats the
session and reads its context; the session resources read it. The routes have no side effect
on a read, so a context fetched this way is not recorded as delivered, and the tools that
write (``acknowledge``, ``add_note``, ``propose_update``) and the incident resources have no
route yet: they answer so, and the agent can go on.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from oncall_tui.agents.hook.remote import read_token
from oncall_tui.agents.mcp import Format, bound_session, server_for
from oncall_tui.core.agents import NoteKind, validate_session_id
from oncall_tui.core.models import Incident
from oncall_tui.store.db import StoreUnavailableError
from oncall_tui.store.queries import NotFoundError

TIMEOUT_S = 10.0
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class ServerUnavailableError(StoreUnavailableError):
    """The server could not be reached, or could not answer: the agent may try again."""


@dataclass(frozen=True)
class HttpBackend:
    """The session routes of one server, for one agent machine's token."""

    server: str
    token: str
    default_session: str | None
    timeout_s: float = TIMEOUT_S

    def session_id(self, given: str | None) -> str:
        """As the local backend: a server started for a session serves no other."""
        return bound_session(given, self.default_session)

    def document(self, session_id: str, fmt: Format) -> str:
        sid = quote(self.session_id(session_id), safe="")
        return self._call("GET", f"/sessions/{sid}/context?format={fmt}")

    def deliver(self, given: str | None, fmt: Format) -> str:
        session_id = self.session_id(given)
        self._call("POST", f"/sessions/{quote(session_id, safe='')}/heartbeat", {})
        return self.document(session_id, fmt)

    def acknowledge(self, push_ref: str, given: str | None) -> str:
        raise ValueError(_not_yet("acknowledge"))

    def add_note(
        self,
        service: str,
        text: str,
        kind: NoteKind,
        rationale: str,
        given: str | None,
        paths: list[str] | None = None,
    ) -> str:
        raise ValueError(_not_yet("add_note"))

    def propose_update(self, note_id: str, text: str, rationale: str, given: str | None) -> str:
        raise ValueError(_not_yet("propose_update"))

    def incident(self, incident_id: str) -> str:
        raise ValueError(_not_yet("the incident resources"))

    def active_incidents(self) -> list[Incident]:
        return []

    def _call(self, method: str, path: str, body: Any = None) -> str:
        url = urlsplit(self.server)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("the server URL must be http(s)://host[:port]")
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        conn = kind(url.hostname, url.port, timeout=self.timeout_s)
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, url.path.rstrip("/") + path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read(MAX_ANSWER_BYTES).decode("utf-8", "replace")
        except OSError as exc:
            raise ServerUnavailableError(f"{self.server} cannot be reached") from exc
        finally:
            conn.close()
        if response.status == 200 or response.status == 201:
            return text
        reason = _error_of(text)
        if response.status == 404:
            raise NotFoundError(reason)
        if response.status >= 500:
            raise ServerUnavailableError(f"the server answered {response.status}: {reason}")
        raise ValueError(f"the server answered {response.status}: {reason}")


def _error_of(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return "no reason given"
    error = data.get("error") if isinstance(data, dict) else None
    return str(error)[:300] if error else "no reason given"


def _not_yet(what: str) -> str:
    return f"{what} is not available with mcp --server yet: ask the on-call engineer"


def run_remote_stdio(server: str, session_id: str | None) -> None:
    """Serve over stdin/stdout, every call through ``server``'s session routes."""
    default = validate_session_id(session_id) if session_id else None
    server_for(HttpBackend(server, read_token(), default)).run("stdio")
