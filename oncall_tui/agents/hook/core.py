"""Every agent's hook: what a session hears from us, and when; one decision for all agents.

An agent runs its hook at session start, on prompts, around tool calls and at the end of a
turn, and waits for it. Two rules follow. It never breaks the agent: any failure prints nothing
and exits 0. And it answers fast: the common answers ("nothing new", "this file is fine", "ask
about this edit") come from plain SQL (:mod:`~oncall_tui.store.hook_queries`,
:mod:`~oncall_tui.agents.hook.edit_guard`); the store, the actions, the settings and the renderer
are imported only when something must be written (a new session, a new file, a heartbeat due)
or delivered. Heartbeats are coalesced to one per :data:`HEARTBEAT_EVERY`, far below the idle
threshold, so a burst of edits costs no writes. :mod:`~oncall_tui.agents.hook.entry` starts all
this without loading the rest of the command line.

The decision takes a normalised :class:`~oncall_tui.agents.hook.model.HookInput` and returns a
:class:`~oncall_tui.agents.hook.model.HookAnswer`; each agent's adapter
(:mod:`~oncall_tui.agents.hook.adapters`) parses its own JSON and renders the answer in its own
output format.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from oncall_tui.agents.commits.hook_commits import committing_dir, record_hook_commit
from oncall_tui.agents.hook.claude_code import PRE_TOOL_USE, SESSION_START, USER_PROMPT_SUBMIT
from oncall_tui.agents.hook.guard_log import after_write, journal_records, judge
from oncall_tui.agents.hook.model import (
    NOTHING,
    Action,
    ActionKind,
    Adapter,
    Event,
    HookAnswer,
    HookInput,
)
from oncall_tui.agents.hook.repo_facts import RepoFacts
from oncall_tui.agents.repo import RepoInfo, relative_paths, repo_info, repo_slug
from oncall_tui.store import hook_queries
from oncall_tui.store.schema import SCHEMA_VERSION

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from oncall_tui.actions import Rules
    from oncall_tui.agents.hook.guard_log import GuardRecord
    from oncall_tui.config import Settings
    from oncall_tui.core.agents import AgentSession, Push
    from oncall_tui.core.clock import Clock
    from oncall_tui.paths import DbLocation
    from oncall_tui.store.journal import Store

__all__ = ["PRE_TOOL_USE", "SESSION_START", "USER_PROMPT_SUBMIT", "answer", "run_hook"]

HEARTBEAT_EVERY = timedelta(seconds=120)
WRITE_BUSY_TIMEOUT_MS = 200
"""How long a hook's write waits for another process's lock: the agent waits for the hook, and
every write the hook makes can be left to the next call (see :func:`_write_and_answer`)."""
DEBUG_ENV = "ONCALL_TUI_DEBUG"

RulesFactory = Callable[[], "Rules"]
"""Rules are built only on the slow path: they need the full settings (pydantic-settings)."""


def run_hook(adapter: Adapter, stdin_text: str, settings: Settings, clock: Clock) -> str:
    """The text to print for one hook invocation; empty on any error (the agent must go on)."""
    try:
        hook = adapter.parse(stdin_text)
        if hook is None:
            return ""

        def rules() -> Rules:
            from oncall_tui.actions import Rules

            return Rules.from_settings(settings)

        return adapter.render(hook, answer(hook, settings.db, rules, clock))
    except Exception:
        report_internal_error(settings.db, component=f"hook {adapter.agent}")
        return ""


def written_paths(action: Action) -> list[str]:
    """The files a tool call would write (or, for other tools, names), as the agent named them.

    A shell command whose writes cannot be told for sure counts every path it mentions as
    written: asking once too often is the price of a guard that ``sed -i`` cannot walk around.
    """
    if action.kind is ActionKind.PATCH:
        from oncall_tui.agents.hook.patch_paths import patch_paths

        return patch_paths(action.text)
    if action.kind is ActionKind.SHELL:
        from oncall_tui.agents.hook.shell_writes import shell_write_targets

        writes = shell_write_targets(action.text)
        named = writes.paths + (writes.mentioned if writes.uncertain else ())
        return list(dict.fromkeys(named))
    return list(action.paths)


def local_facts(hook: HookInput) -> RepoFacts:
    """The facts of the checkout around the hook's cwd, asked of git on this machine."""
    repo = repo_info(hook.cwd)
    wrote = hook.event is Event.PRE_TOOL or _wrote(hook)
    return RepoFacts(
        branch=repo.branch,
        written=_relative_written(hook, repo) if wrote else [],
        slug=lambda: repo_slug(repo.root) if repo.root else None,
        commit_dir=committing_dir(hook),
    )


def answer(
    hook: HookInput,
    db: DbLocation,
    rules: RulesFactory,
    clock: Clock,
    facts: RepoFacts | None = None,
    start_server: Callable[[], None] | None = None,
) -> HookAnswer:
    """Register or refresh the session, then say what is new (or judge the tool call).

    ``facts`` are the checkout's (:func:`local_facts` when not given): a remote hook's come
    from the agent's machine, and the decision is this same one. ``start_server`` is called
    when a write is due and no ``serve`` answers here (the command line's hook starts a hook
    server with it: :mod:`~oncall_tui.agents.hook.start_server`).
    """
    if not hook_queries.present(db):
        # Nobody has started oncall-tui with this DB (an empty file is what ``touch`` leaves):
        # nothing to say, and nothing to create (see hook_queries.initialised).
        return NOTHING
    repo = facts or local_facts(hook)
    paths = repo.written if hook.event is Event.PRE_TOOL else []
    with hook_queries.connection(db) as conn:
        version = hook_queries.schema_version(conn)
        if version == 0 or version > SCHEMA_VERSION:
            return NOTHING  # not an oncall-tui DB, or a newer oncall-tui owns it
        # An older schema is migrated by the slow path; its tables cannot be read as they are.
        session = (
            hook_queries.read_session(conn, hook.session_id) if version == SCHEMA_VERSION else None
        )
        write = _needs_write(hook, session, repo, paths, clock)
        if session is not None and not write:
            if _guarded(hook):
                reason, due = judge(conn, hook, session.repo, paths, clock.now())
                if due is None:
                    return HookAnswer(guard=reason)
                # A decision to journal: the slow path writes it if it gets the lock.
            else:
                allowed = _wrote(hook) and after_write(conn, hook, repo.written, clock.now())
                news = _delivers(hook) and hook_queries.has_new_context(
                    conn, hook.session_id, session.last_context_seq
                )
                if not allowed and not news and repo.commit_dir is None:
                    return NOTHING
        # A write (or a render) is due. The hook an agent started hands it to a running serve
        # when there is one; serve, deciding for a hook (``facts`` given), never hands it on.
        serving = None
        if facts is None:
            from oncall_tui.agents.local_api import find

            serving = find(conn)
    if serving is not None:
        from oncall_tui.agents.hook.via_serve import ask_serve

        registers = hook.event is Event.SESSION_START or session is None or session.ended
        try:
            served = ask_serve(serving, hook, repo, registers=registers)
        except Exception:  # refused or garbled: decided here, and logged
            served = None
            report_internal_error(db, component=f"hook {hook.agent}", event=hook.event.value)
        if served is not None:
            return served
    decided = _write_and_answer(hook, repo, paths, db, rules, clock, write=write)
    if serving is None and facts is None and start_server is not None:
        # For the hooks after this one; started once this one is decided, so that loading what
        # it needs never delays the lock probe (:func:`_write_and_answer`).
        try:
            start_server()
        except Exception:
            report_internal_error(db, component=f"hook {hook.agent}", event=hook.event.value)
    return decided


def _relative_written(hook: HookInput, repo: RepoInfo) -> list[str]:
    """The files the tool call writes, relative to the repository (or the cwd outside one)."""
    return relative_paths(written_paths(hook.action), repo.root or Path(hook.cwd), hook.cwd)


def _wrote(hook: HookInput) -> bool:
    """A tool call that writes files has just run (whether an ask before it was answered yes
    is what :func:`~oncall_tui.agents.hook.guard_log.after_write` tells)."""
    return hook.event is Event.POST_TOOL and hook.action.guarded


def _guarded(hook: HookInput) -> bool:
    return hook.event is Event.PRE_TOOL and hook.action.guarded


def _delivers(hook: HookInput) -> bool:
    """Context goes out only on events whose output reaches the model."""
    return hook.hears and hook.event is not Event.PRE_TOOL


def _needs_write(
    hook: HookInput,
    session: hook_queries.SessionRow | None,
    repo: RepoFacts,
    paths: list[str],
    clock: Clock,
) -> bool:
    """Register at session start and for strangers; heartbeat when due or when there is news."""
    if hook.event is Event.SESSION_START or session is None or session.ended:
        return True
    moved = repo.branch is not None and repo.branch != session.branch
    due = clock.now() - session.last_seen >= HEARTBEAT_EVERY
    return moved or due or not session.paths.issuperset(paths)


def _write_and_answer(
    hook: HookInput,
    repo: RepoFacts,
    paths: list[str],
    db: DbLocation,
    rules: RulesFactory,
    clock: Clock,
    *,
    write: bool,
) -> HookAnswer:
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
                report_internal_error(db, component=f"hook {hook.agent}", event=hook.event.value)
                writable = False
        if hook.event is Event.PRE_TOOL:
            if not _guarded(hook):
                return NOTHING
            owner = session.repo if session else repo.slug()
            now = clock.now()
            warning, due = judge(store.conn, hook, owner, paths, now, remember=writable)
            if writable and due is not None:
                _journal_guard(store, [due], hook)
            return HookAnswer(guard=warning)
        if writable and _wrote(hook):
            _journal_guard(store, after_write(store.conn, hook, repo.written, clock.now()), hook)
        checkout = repo.commit_dir if writable else None
        if checkout is not None:
            # The agent committed: its new HEAD is journaled as this session's commit (a
            # failure there must not cost the agent its context).
            try:
                record_hook_commit(store, hook, checkout, session.repo if session else None)
            except Exception:
                report_internal_error(db, component=f"hook {hook.agent}", event=hook.event.value)
        if session is None or not _delivers(hook):
            return NOTHING  # not registered (the lock is held), or the event cannot carry it
        since = known.last_context_seq if known is not None else 0
        full = hook.event is Event.SESSION_START
        context = deliver_context(
            store, session.id, since, full=full, record=writable, contact=rules().contact
        )
        return HookAnswer(context=context)
    finally:
        store.close()


def _journal_guard(store: Store, records: list[GuardRecord], hook: HookInput) -> None:
    """Journal the guard's decisions; a failed write is left to the next identical call."""
    from oncall_tui.store.db import StoreUnavailableError

    if not records:
        return
    try:
        journal_records(store, records)
    except StoreUnavailableError:
        report_internal_error(store.path, component=f"hook {hook.agent}", event=hook.event.value)


class _LockProbe(threading.Thread):
    """Whether this process can take the write lock within :data:`WRITE_BUSY_TIMEOUT_MS`."""

    def __init__(self, db: DbLocation) -> None:
        super().__init__(name="oncall-tui-hook-lock-probe", daemon=True)
        self.db = db
        self.free = False

    def run(self) -> None:
        self.free = hook_queries.write_lock_free(self.db, WRITE_BUSY_TIMEOUT_MS / 1000)


def _record_session(
    store: Store,
    hook: HookInput,
    repo: RepoFacts,
    paths: list[str],
    rules: RulesFactory,
    known: AgentSession | None,
    *,
    write: bool,
) -> AgentSession | None:
    """Register the session (at its start, or a stranger) or heartbeat it when ``write``."""
    from oncall_tui.actions import sessions as session_actions
    from oncall_tui.core.agents import AgentKind

    if hook.event is Event.SESSION_START or known is None:
        return session_actions.register(
            store,
            rules(),
            hook.session_id,
            agent=AgentKind(hook.agent),
            repo=repo.slug(),
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
    store: Store,
    session_id: str,
    since_seq: int,
    *,
    full: bool,
    record: bool,
    contact: str | None = None,
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

    ctx = build_session_context(store.conn, session_id, contact=contact)
    if ctx is None:
        return ""
    key = fence_key(store)

    def new(push: Push) -> bool:
        return (push.news_seq or 0) > since_seq

    if full and ctx.incidents:
        shown = ctx.push_ids
        text = render_markdown(ctx, key, stale_notes=stale_notes(ctx.notes, store.clock.now()))
    else:
        carried = [p for ic in ctx.incidents for p in ic.carried] + ctx.stand_downs
        shown = [p.id for p in carried if new(p)]
        text = render_delta(ctx, key, since_seq) or ""
    if not text.strip():
        return ""
    if record:
        try:
            record_delivery(store, session_id, shown, channel="hook", through_seq=ctx.seq)
        except StoreUnavailableError:
            report_internal_error(store.path)
    return text


def emit(text: str) -> None:
    """Print as UTF-8 whatever the locale; a reader that went away is not our failure."""
    if not text:
        return
    try:
        sys.stdout.buffer.write(text.encode("utf-8") + (b"" if text.endswith("\n") else b"\n"))
        sys.stdout.buffer.flush()
    except (BrokenPipeError, ValueError, OSError):
        report_internal_error()


def report_internal_error(
    db: DbLocation | None = None, *, component: str = "hook", event: str | None = None
) -> None:
    """Log the error being handled beside ``db`` (class and frames, never its message: see
    :mod:`~oncall_tui.agents.error_log`), and print its traceback on stderr when
    ONCALL_TUI_DEBUG is set; nothing reaches the agent, which goes on."""
    from oncall_tui.agents.error_log import record

    record(db, component, sys.exc_info()[1], event=event)
    if os.environ.get(DEBUG_ENV):
        import traceback

        traceback.print_exc(file=sys.stderr)
