"""``mcp --server URL``: the MCP tools of an agent on another machine, through HTTP.

The backend of :func:`~oncall_tui.agents.mcp.server_for` that, instead of opening a DB, calls
the agent routes of ``oncall-tui serve`` with this machine's agent token (the same token as
the remote hook: ``ONCALL_TUI_TOKEN`` or the 0600 token file). Each tool and the incident
resources have a route (:mod:`~oncall_tui.server.agent_tools_routes`) that runs what a local
server would, so the answers and the journal entries are the same; the session resources read
``GET /sessions/{id}/context``, which has no side effect. A refusal of the action (409) reads
as a local server words it; a refused token or a bad request says what the server answered;
a server that cannot be reached, or fails, is a :class:`ServerUnavailableError` within
``TIMEOUT_S``, so the agent is told and can go on.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import TypeAdapter, ValidationError

from oncall_tui.agents.hook.remote import read_token
from oncall_tui.agents.mcp import server_for
from oncall_tui.agents.mcp_store import Format, bound_session
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
    """The agent routes of one server, for one agent machine's token."""

    server: str
    token: str
    default_session: str | None
    timeout_s: float = TIMEOUT_S

    def session_id(self, given: str | None) -> str:
        """As the local backend: a server started for a session serves no other."""
        return bound_session(given, self.default_session)

    def document(self, session_id: str, fmt: Format) -> str:
        return self._call("GET", f"{self._session_path(session_id)}/context?format={fmt}")

    def deliver(self, given: str | None, fmt: Format) -> str:
        return self._call("POST", f"{self._session_path(given)}/deliveries", {"format": fmt})

    def acknowledge(self, push_ref: str, given: str | None) -> str:
        path = f"{self._session_path(given)}/acknowledgements"
        return self._message("POST", path, {"push": push_ref})

    def add_note(
        self,
        service: str,
        text: str,
        kind: NoteKind,
        rationale: str,
        given: str | None,
        paths: list[str] | None = None,
    ) -> str:
        note = {
            "service": service,
            "text": text,
            "kind": kind.value,
            "rationale": rationale,
            "paths": paths or [],
        }
        return self._message("POST", f"{self._session_path(given)}/notes", note)

    def propose_update(self, note_id: str, text: str, rationale: str, given: str | None) -> str:
        if not note_id.strip():  # no route names an empty note: answered as locally
            raise NotFoundError("no current note")
        path = f"{self._session_path(given)}/notes/{quote(note_id.strip(), safe='')}/proposals"
        return self._message("POST", path, {"text": text, "rationale": rationale})

    def incident(self, incident_id: str) -> str:
        return self._call("GET", f"/incidents/{quote(incident_id, safe='')}")

    def active_incidents(self) -> list[Incident]:
        answer = self._call("GET", "/incidents?active=1")
        try:
            return _INCIDENTS.validate_json(answer)
        except ValidationError:
            raise ServerUnavailableError(f"{self.server} answered no list of incidents") from None

    def _session_path(self, given: str | None) -> str:
        return f"/sessions/{quote(self.session_id(given), safe='')}"

    def _message(self, method: str, path: str, body: Any) -> str:
        """The tool's answer, which the server sends as ``{"message": ...}``."""
        answer = self._call(method, path, body)
        try:
            message = json.loads(answer).get("message")
        except (ValueError, AttributeError):
            message = None
        if not isinstance(message, str):
            raise ServerUnavailableError(f"{self.server} answered without a message")
        return message

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
        except TimeoutError as exc:  # a write may have been recorded all the same
            raise ServerUnavailableError(
                f"{self.server} cannot be reached: no answer within {self.timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise ServerUnavailableError(f"{self.server} cannot be reached") from exc
        finally:
            conn.close()
        if response.status == 200 or response.status == 201:
            return text
        reason = _error_of(text)
        if response.status == 404:
            if reason is None:  # the route itself is missing, not what it looked for
                raise NotFoundError(
                    f"{self.server} has no {method} {path.split('?')[0]}:"
                    " is its oncall-tui older than this one?"
                )
            raise NotFoundError(reason)
        if response.status == 409:  # the action's refusal, as a local server words it
            raise ValueError(reason or "refused")
        if response.status >= 500:
            raise ServerUnavailableError(
                f"the server answered {response.status}: {reason or 'no reason given'}"
            )
        raise ValueError(f"the server answered {response.status}: {reason or 'no reason given'}")


_INCIDENTS = TypeAdapter(list[Incident])


def _error_of(text: str) -> str | None:
    """The server's reason, or None when the answer carries none (not one of its routes)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return str(error)[:300] if error else None


def run_remote_stdio(server: str, session_id: str | None) -> None:
    """Serve over stdin/stdout, every call through ``server``'s agent routes."""
    default = validate_session_id(session_id) if session_id else None
    server_for(HttpBackend(server, read_token(), default)).run("stdio")
