"""``oncall-tui hook claude-code``: what a Claude Code session hears from us, and when.

Claude Code runs the hook at session start, on every prompt and before every edit, and waits
for it. Two rules follow. It never breaks the agent: any failure prints nothing and exits 0.
And it answers fast: the common answers ("nothing new", "this file is fine", "ask about this
edit") come from plain SQL (:mod:`~oncall_tui.store.hook_queries`,
:mod:`~oncall_tui.agents.hook.edit_guard`); the store, the actions, the settings and the renderer
are imported only when something must be written (a new session, a new file, a heartbeat due)
or delivered. Heartbeats are coalesced to one per :data:`HEARTBEAT_EVERY`, far below the idle
threshold, so a burst of edits costs no writes. :mod:`~oncall_tui.agents.hook.entry` starts all
this without loading the rest of the command line.

Output: SessionStart and UserPromptSubmit print Markdown, which Claude Code adds to the model's
context on exit 0 (plain stdout rather than ``additionalContext``, which some clients drop);
PreToolUse prints a ``permissionDecision`` of ``ask`` with the reason, or nothing.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncall_tui.agents.hook.edit_guard import edit_warning
from oncall_tui.agents.repo import RepoInfo, relative_paths, repo_info, repo_slug, tool_paths
from oncall_tui.store import hook_queries
from oncall_tui.store.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from oncall_tui.actions import Rules
    from oncall_tui.config import Settings
    from oncall_tui.core.agents import AgentSession, Push
    from oncall_tui.core.clock import Clock
    from oncall_tui.store.journal import Store

SESSION_START = "SessionStart"
USER_PROMPT_SUBMIT = "UserPromptSubmit"
PRE_TOOL_USE = "PreToolUse"
HOOK_EVENTS = frozenset({SESSION_START, USER_PROMPT_SUBMIT, PRE_TOOL_USE})
EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
HEARTBEAT_EVERY = timedelta(seconds=120)
WRITE_BUSY_TIMEOUT_MS = 200
"""How long a hook's write waits for another process's lock: the agent waits for the hook, and
every write the hook makes can be left to the next call (see :func:`_write_and_answer`)."""
DEBUG_ENV = "ONCALL_TUI_DEBUG"

RulesFactory = Callable[[], "Rules"]
"""Rules are built only on the slow path: they need the full settings (pydantic-settings)."""


@dataclass(frozen=True)
class HookInput:
    """The fields of Claude Code's hook JSON that we act on."""

    event: str
    session_id: str
    cwd: str
    tool_name: str = ""
    tool_input: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_edit(self) -> bool:
        return self.event == PRE_TOOL_USE and self.tool_name in EDIT_TOOLS


def parse_hook_input(text: str) -> HookInput | None:
    """The hook JSON, or None for anything we do not handle (which then prints nothing).

    The session id is checked against the stored sessions (whose ids were validated when they
    were registered) or by :func:`~oncall_tui.actions.sessions.register`, never trusted as is.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    event, session_id, cwd = data.get("hook_event_name"), data.get("session_id"), data.get("cwd")
    if event not in HOOK_EVENTS or not isinstance(session_id, str) or not session_id:
        return None
    tool_name, tool_input = data.get("tool_name"), data.get("tool_input")
    return HookInput(
        event=event,
        session_id=session_id,
        # Claude Code starts hooks in the project directory, so that is the fallback.
        cwd=cwd if isinstance(cwd, str) and cwd else os.getcwd(),
        tool_name=tool_name if isinstance(tool_name, str) else "",
        tool_input=tool_input if isinstance(tool_input, dict) else {},
    )


def run_claude_code_hook(stdin_text: str, settings: Settings, clock: Clock) -> str:
    """The text to print for one hook invocation; empty on any error (the agent must go on)."""
    try:
        hook = parse_hook_input(stdin_text)
        if hook is None:
            return ""

        def rules() -> Rules:
            from oncall_tui.actions import Rules

            return Rules.from_settings(settings)

        return answer(hook, settings.db, rules, clock)
    except Exception:
        report_internal_error()
        return ""


def answer(hook: HookInput, db: Path, rules: RulesFactory, clock: Clock) -> str:
    """Register or refresh the session, then say what is new (or judge the edit)."""
    if not db.is_file() or db.stat().st_size == 0:
        # Nobody has started oncall-tui with this DB (an empty file is what ``touch`` leaves):
        # nothing to say, and nothing to create (see hook_queries.initialised).
        return ""
    repo = repo_info(hook.cwd)
    paths: list[str] = []
    if hook.event == PRE_TOOL_USE:
        paths = relative_paths(tool_paths(hook.tool_input), repo.root or Path(hook.cwd), hook.cwd)
    with hook_queries.connection(db) as conn:
        version = hook_queries.schema_version(conn)
        if version == 0 or version > SCHEMA_VERSION:
            return ""  # not an oncall-tui DB, or a newer oncall-tui owns it (the slow path refuses)
        # An older schema is migrated by the slow path; its tables cannot be read as they are.
        session = (
            hook_queries.read_session(conn, hook.session_id) if version == SCHEMA_VERSION else None
        )
        write = _needs_write(hook, session, repo, paths, clock)
        if session is not None and not write:
            if hook.is_edit:
                return _ask(edit_warning(conn, hook.session_id, session.repo, paths))
            if hook.event == PRE_TOOL_USE or not hook_queries.has_new_context(
                conn, hook.session_id, session.last_context_seq
            ):
                return ""
    return _write_and_answer(hook, repo, paths, db, rules, clock, write=write)


def _needs_write(
    hook: HookInput,
    session: hook_queries.SessionRow | None,
    repo: RepoInfo,
    paths: list[str],
    clock: Clock,
) -> bool:
    """Register at session start and for strangers; heartbeat when due or when there is news."""
    if hook.event == SESSION_START or session is None or session.ended:
        return True
    moved = repo.branch is not None and repo.branch != session.branch
    due = clock.now() - session.last_seen >= HEARTBEAT_EVERY
    return moved or due or not session.paths.issuperset(paths)


def _write_and_answer(
    hook: HookInput,
    repo: RepoInfo,
    paths: list[str],
    db: Path,
    rules: RulesFactory,
    clock: Clock,
    *,
    write: bool,
) -> str:
    """The slow path, through the same actions as the CLI and HTTP (journal, reconcile).

    It writes only if it gets the write lock within :data:`WRITE_BUSY_TIMEOUT_MS`, tried once
    up front (under another process's lock each write would wait as long again, and loading the
    settings they need costs more than is left). Without the lock, or when a write fails anyway,
    the write is dropped (reported at debug level) and the answer comes from what can be read:
    the context as it stands, the edit judged on the stored state. Dropped rather than queued,
    because every write here is derived again from the stored state on the next call: a session
    not registered is still a stranger, a due heartbeat is still due, context not recorded as
    delivered is still new (so it is said again rather than never). A queue beside the DB would
    be a second write path, with its own races between concurrent hooks, to save nothing that
    the next call does not redo.
    """
    # The lock is tried in a thread while the store and the models are imported (SQLite waits
    # for a lock without the GIL): under another process's lock the wait then costs nothing.
    probe = _LockProbe(db)
    probe.start()
    from oncall_tui.store.db import StoreUnavailableError
    from oncall_tui.store.journal import Store

    store = Store.open(db, clock, busy_timeout_ms=WRITE_BUSY_TIMEOUT_MS)
    try:
        known = store.tables().get_session(hook.session_id)
        probe.join()
        writable = probe.free
        session = known
        if writable:
            try:
                session = _record_session(store, hook, repo, paths, rules, known, write=write)
            except StoreUnavailableError:
                report_internal_error()
                writable = False
        if hook.event == PRE_TOOL_USE:
            if not hook.is_edit:
                return ""
            owner = session.repo if session else (repo_slug(repo.root) if repo.root else None)
            warning = edit_warning(store.conn, hook.session_id, owner, paths, remember=writable)
            return _ask(warning)
        if session is None:
            return ""  # not registered (the lock is held): no context can be addressed to it yet
        since = known.last_context_seq if known is not None else 0
        full = hook.event == SESSION_START
        return deliver_context(store, session.id, since, full=full, record=writable)
    finally:
        store.close()


class _LockProbe(threading.Thread):
    """Whether this process can take the write lock within :data:`WRITE_BUSY_TIMEOUT_MS`."""

    def __init__(self, db: Path) -> None:
        super().__init__(name="oncall-tui-hook-lock-probe", daemon=True)
        self.db = db
        self.free = False

    def run(self) -> None:
        self.free = hook_queries.write_lock_free(self.db, WRITE_BUSY_TIMEOUT_MS / 1000)


def _record_session(
    store: Store,
    hook: HookInput,
    repo: RepoInfo,
    paths: list[str],
    rules: RulesFactory,
    known: AgentSession | None,
    *,
    write: bool,
) -> AgentSession | None:
    """Register the session (at its start, or a stranger) or heartbeat it when ``write``."""
    from oncall_tui.actions import sessions as session_actions
    from oncall_tui.core.agents import AgentKind

    if hook.event == SESSION_START or known is None:
        return session_actions.register(
            store,
            rules(),
            hook.session_id,
            agent=AgentKind.CLAUDE_CODE,
            repo=repo_slug(repo.root) if repo.root else None,
            cwd=hook.cwd,
            branch=repo.branch,
            paths=paths,
        )
    if write:
        return session_actions.heartbeat(
            store, rules(), hook.session_id, paths=paths, branch=repo.branch
        )
    return known


def deliver_context(
    store: Store, session_id: str, since_seq: int, *, full: bool, record: bool
) -> str:
    """What the session has not seen yet, recorded as delivered through the hook if non-empty.

    ``full`` (session start, which may follow a compaction or a resume) prints the whole
    current context when any incident concerns the session; otherwise only what became live
    after ``since_seq``, stand-downs included, so each is said once. When the delivery is not
    recorded (``record`` false, or another process holds the write lock) the text is printed
    all the same, and said again at the next prompt: twice is better than never.
    """
    from oncall_tui.actions.notes import stale_notes
    from oncall_tui.actions.pushes import record_delivery
    from oncall_tui.core.context.render import render_delta, render_markdown
    from oncall_tui.store.context import build_session_context
    from oncall_tui.store.db import StoreUnavailableError
    from oncall_tui.store.meta import fence_key

    ctx = build_session_context(store.conn, session_id)
    if ctx is None:
        return ""
    key = fence_key(store)

    def new(push: Push) -> bool:
        return (push.live_seq or 0) > since_seq

    stand_downs = [p for p in ctx.stand_downs if new(p)]
    if full and ctx.incidents:
        shown = [p for ic in ctx.incidents for p in ic.pushes] + stand_downs
        parts = [render_markdown(ctx, key, stale_notes=stale_notes(ctx.notes, store.clock.now()))]
        if stand_downs:  # the full document names active incidents only: say the rest once
            parts.append(render_delta(replace(ctx, incidents=[]), key, since_seq) or "")
        text = "\n".join(parts)
    else:
        shown = [p for ic in ctx.incidents for p in ic.pushes if new(p)] + stand_downs
        text = render_delta(ctx, key, since_seq) or ""
    if not text.strip():
        return ""
    if record:
        try:
            push_ids = [p.id for p in shown]
            record_delivery(store, session_id, push_ids, channel="hook", through_seq=ctx.seq)
        except StoreUnavailableError:
            report_internal_error()
    return text


def _ask(reason: str | None) -> str:
    if reason is None:
        return ""
    output = {
        "hookSpecificOutput": {
            "hookEventName": PRE_TOOL_USE,
            "permissionDecision": "ask",
            "permissionDecisionReason": reason,
        }
    }
    return json.dumps(output, ensure_ascii=False)


def emit(text: str) -> None:
    """Print as UTF-8 whatever the locale; a reader that went away is not our failure."""
    if not text:
        return
    try:
        sys.stdout.buffer.write(text.encode("utf-8") + (b"" if text.endswith("\n") else b"\n"))
        sys.stdout.buffer.flush()
    except (BrokenPipeError, ValueError, OSError):
        report_internal_error()


def report_internal_error() -> None:
    """A traceback on stderr when ONCALL_TUI_DEBUG is set; silence otherwise: the agent goes on."""
    if os.environ.get(DEBUG_ENV):
        import traceback

        traceback.print_exc(file=sys.stderr)
