"""The hook in remote mode: the decision is made by a server, the checkout is read here.

With ``ONCALL_TUI_SERVER`` (or ``--server URL``) the hook sends the normalised event and the
repo facts of this machine (:func:`~oncall_tui.agents.hook.core.local_facts`: slug, branch,
paths relative to the repository) to ``POST /sessions/{id}/events`` with this machine's token,
and renders the server's answer with the agent's adapter, as the local hook would. After a
shell call that committed, the new ``HEAD`` is read here as the local hook reads it
(:func:`~oncall_tui.agents.commits.hook_commits.read_hook_commit`) and sent with the event, for
the server to journal as the session's commit.

The agent's rule holds: one second in all (:data:`BUDGET_S` for the call, which runs in a thread
the hook stops waiting for), exit 0, nothing on the agent's stdout but an answer. The last context
heard is cached per server and session (0600, under the XDG cache dir); when the server cannot
be reached an event that carries context prints that, headed by how old it is, or nothing
without one. Errors go to a small log beside the cache (no DB here to put it beside), class
and frames only, as :mod:`~oncall_tui.agents.error_log` writes them.

Standard library only: every remote hook call starts here.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from oncall_tui.agents.error_log import append_bounded, error_line
from oncall_tui.agents.hook.core import DEBUG_ENV, local_facts
from oncall_tui.agents.hook.event_wire import commit_body, decided_answer, event_body
from oncall_tui.agents.hook.model import Adapter, Event, HookAnswer, HookInput
from oncall_tui.agents.http_post import ServerRefusedError, ServerUnreachableError, post
from oncall_tui.paths import APP, config_dir, xdg_dir

SERVER_ENV = "ONCALL_TUI_SERVER"
TOKEN_ENV = "ONCALL_TUI_TOKEN"
TOKEN_FILE = "token"
BUDGET_S = 0.8
"""The whole remote call, git included, from when this module runs: with the interpreter's
start before it (~0.1 s) the hook answers within the second an agent is promised."""
COMMIT_READ_S = 0.3
"""Of :data:`BUDGET_S`, what reading a commit may take (five git calls, ~20 ms measured): a git
slower than that costs the record, not the answer; the server's trailer scan and the next
commit's hook are the second chance."""
ERROR_LOG = "hook-errors.log"
INVALID_BODY = 400
"""How the server refuses a body it cannot take (as every session route does)."""


class TokenFileTooOpenError(PermissionError):
    """The token file can be read by others than its owner: it is refused, not used."""


class NoTokenError(LookupError):
    """Neither ``ONCALL_TUI_TOKEN`` nor the token file holds a token."""


def server_url(explicit: str | None) -> str | None:
    return explicit or os.environ.get(SERVER_ENV) or None


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


def read_token() -> str:
    """``ONCALL_TUI_TOKEN``, else the token file, which must be readable by its owner alone."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    if value:
        return value
    path = token_path()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise NoTokenError(TOKEN_ENV) from None
    with os.fdopen(fd, encoding="utf-8") as file:
        if os.fstat(file.fileno()).st_mode & 0o077:
            raise TokenFileTooOpenError(str(path))
        token = file.read().strip()
    if not token:
        raise NoTokenError(TOKEN_ENV)
    return token


def cache_dir() -> Path:
    return xdg_dir("XDG_CACHE_HOME", ".cache") / APP / "remote"


@dataclass(frozen=True)
class CachedContext:
    text: str
    saved_at: float
    """Unix time."""


def cache_file(server: str, session_id: str) -> Path:
    digest = hashlib.sha256(f"{server.rstrip('/')}\0{session_id}".encode()).hexdigest()[:32]
    return cache_dir() / f"{digest}.json"


def save_context(server: str, session_id: str, text: str, now: float) -> None:
    """The last context heard, written whole (rename) and readable by its owner alone."""
    path = cache_file(server, session_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump({"saved_at": now, "context": text}, file)
    os.replace(temporary, path)


def load_context(server: str, session_id: str) -> CachedContext | None:
    try:
        data = json.loads(cache_file(server, session_id).read_text(encoding="utf-8"))
        return CachedContext(str(data["context"]), float(data["saved_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def age_text(seconds: float) -> str:
    """``12 min ago``: how old the cached context is, in the unit a reader wants."""
    if seconds < 60:
        return "less than a minute ago"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"


def offline_answer(cached: CachedContext | None, now: float) -> HookAnswer:
    if cached is None or not cached.text.strip():
        return HookAnswer()
    heading = f"oncall-tui: server unreachable; context from {age_text(now - cached.saved_at)}"
    return HookAnswer(context=f"{heading}\n\n{cached.text}")


def post_event(server: str, token: str, session_id: str, body: bytes, timeout_s: float) -> bytes:
    """The server's answer to one event; raises on any failure, within ``timeout_s``."""
    return post(server, token, f"/sessions/{quote(session_id, safe='')}/events", body, timeout_s)


def remote_answer(hook: HookInput, server: str, *, now: float | None = None) -> HookAnswer:
    """The server's decision for ``hook``; the cached context when the server is unreachable.

    Raises for what must not fall back to the cache (no token, a refused token): the caller
    logs it and prints nothing.
    """
    started = time.monotonic()
    token = read_token()
    facts = local_facts(hook)
    commit = None
    if facts.commit_dir is not None:
        commit = commit_read_here(hook, facts.commit_dir, COMMIT_READ_S)
    body = event_body(hook, facts, commit=commit)
    delivers = hook.hears and hook.event is not Event.PRE_TOOL
    clock = time.time() if now is None else now
    try:
        data = json.loads(ask_server(server, token, hook, body, started))
    except ServerUnreachableError:
        if not delivers:
            return HookAnswer()
        return offline_answer(load_context(server, hook.session_id), clock)
    answer = decided_answer(data)
    if answer.context.strip():
        save_context(server, hook.session_id, answer.context, clock)
    return answer


def ask_server(
    server: str, token: str, hook: HookInput, body: dict[str, object], started: float
) -> bytes:
    """The server's answer to the event, within what is left of :data:`BUDGET_S`.

    A body with a commit that the server refuses as invalid (400: over its caps, or a server
    too old to take a commit) is logged, and the event asked again without the commit: the
    agent still hears its context, and only the record is lost.
    """
    try:
        return post_event(server, token, hook.session_id, _encoded(body), _left(started))
    except ServerRefusedError as refused:
        if refused.status != INVALID_BODY or "commit" not in body:
            raise
        log_error(refused, component=f"hook {hook.agent}", event=hook.event.value)
    without = {key: value for key, value in body.items() if key != "commit"}
    return post_event(server, token, hook.session_id, _encoded(without), _left(started))


def _encoded(body: dict[str, object]) -> bytes:
    return json.dumps(body).encode("utf-8")


def _left(started: float) -> float:
    return max(0.05, BUDGET_S - (time.monotonic() - started))


def commit_read_here(hook: HookInput, checkout: str, timeout_s: float) -> dict[str, object] | None:
    """The commit the shell call just made in ``checkout``, as the event carries it; None when
    it made none, or when git did not answer within ``timeout_s`` (the read goes on in a thread
    nobody waits for) or failed (logged): the event goes without it."""
    found: list[dict[str, object] | None] = []

    def read() -> None:
        try:
            found.append(_read_commit(hook, checkout))
        except Exception as exc:  # the agent's context must not depend on this record
            log_error(exc, component=f"hook {hook.agent}", event=hook.event.value)
            found.append(None)

    worker = threading.Thread(target=read, name="oncall-tui-commit", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return found[0] if found else None


def _read_commit(hook: HookInput, checkout: str) -> dict[str, object] | None:
    from oncall_tui.agents.commits.hook_commits import checkout_slug, read_hook_commit

    commit = read_hook_commit(checkout)
    if commit is None:
        return None
    # Made in the session's own checkout: the server names it after the session, as the local
    # hook does; made elsewhere (``git -C``): after that checkout, one git call more.
    elsewhere = Path(checkout) != Path(hook.cwd)
    return commit_body(commit, checkout_slug(checkout) if elsewhere else None)


def run_remote(adapter: Adapter, hook: HookInput, server: str) -> str:
    """The text to print for one remote hook call; empty (and logged) on any failure."""
    try:
        return adapter.render(hook, remote_answer(hook, server))
    except Exception as exc:
        log_error(exc, component=f"hook {adapter.agent}", event=hook.event.value)
        if os.environ.get(DEBUG_ENV):
            import traceback

            traceback.print_exc(file=sys.stderr)
        return ""


ERROR_HINTS = {
    TokenFileTooOpenError: "the token file must be mode 0600: chmod 600 it",
    NoTokenError: "set ONCALL_TUI_TOKEN or write the token file (mode 0600)",
    ServerRefusedError: "the server refused the token (revoked or wrong?)",
}


def log_error(error: BaseException, *, component: str, event: str | None = None) -> None:
    """One line in the remote hooks' log (class, frames and a fixed hint); never raises."""
    try:
        extra: dict[str, object] = {}
        hint = next((text for kind, text in ERROR_HINTS.items() if isinstance(error, kind)), None)
        if hint:
            extra["hint"] = hint
        if isinstance(error, ServerRefusedError):
            extra["status"] = error.status
        line = error_line(component, error, event=event, extra=extra)
        path = cache_dir() / ERROR_LOG
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        append_bounded(path, path.with_name(ERROR_LOG + ".1"), line.encode("utf-8"))
    except Exception:  # the log is best effort: the caller is already handling a failure
        return
