"""The context files agents read: one folder per session, an index, and opt-in repo pointers.

``sync`` makes the export directory say what the DB says. Every file is rendered, checked and
compared with what is on disk; only changed files are replaced (atomically), so a sync with no
state change writes nothing and agents (and editors watching the files) see no churn. A document
that fails its check is never written: the old, complete file stays, and the failure goes to the
journal, where the dashboard shows it.

Ended sessions lose their folder rather than getting a final "session ended" document: nobody
reads it any more, a removed file can never go stale, and the directory does not grow with every
session ever seen. A session that comes back is simply exported again.

One sync runs at a time per export directory (an ``flock`` on ``.lock``), so the dashboard,
``serve`` and the CLI can all export without interleaving; holding the lock also makes any temp
file found a stray from a killed writer, safe to delete.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from oncall_tui.actions import Rules
from oncall_tui.actions.notes import stale_notes
from oncall_tui.actions.pushes import record_delivery
from oncall_tui.agents.export import repo_files
from oncall_tui.agents.export.atomic import (
    Planned,
    UnsafePathError,
    contained,
    stray_temp_files,
)
from oncall_tui.agents.export.index import render_index
from oncall_tui.agents.export.plan import (
    ExportReport,
    Failure,
    apply,
    compare,
    folder_extras,
    remove_empty_folders,
)
from oncall_tui.config import Settings
from oncall_tui.core.agents import SessionState
from oncall_tui.core.context import render
from oncall_tui.core.context.model import SessionContext
from oncall_tui.core.context.schema import ContextDocument
from oncall_tui.core.journal import ExportFailed, Kind
from oncall_tui.core.topology import Catalog
from oncall_tui.core.validation_text import describe_problem, location
from oncall_tui.store.context import SharedReads, build_session_context
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import fence_key
from oncall_tui.store.queries import list_incidents
from oncall_tui.store.schema import JOURNAL_KIND_INDEXED

__all__ = ["ExportReport", "Failure", "RenderCache", "context_files", "sync"]

SESSIONS = "sessions"
CONTEXT_MD = "CONTEXT.md"
CONTEXT_JSON = "context.json"
INDEX_MD = "INDEX.md"
LOCK = ".lock"
REPO_ROOTS = ".repo-roots.json"
"""Checkouts the repo writers touched, so their blocks go away even after the sessions do."""
FILE_CHANNEL = "file"


@dataclass(frozen=True)
class _Session:
    ctx: SessionContext
    markdown: bytes
    document: bytes
    ok: bool
    """Both documents passed their checks (otherwise nothing of this session is written)."""
    folder: Path | None
    """``None`` when the folder would be unsafe (already reported as a failure)."""
    checkout: Path | None = None
    """The git work tree whose repo files show it; ``None`` with no repo writer enabled."""

    @classmethod
    def unrendered(cls, ctx: SessionContext) -> _Session:
        """A session outside a sync's ``session_ids`` that no repo file shows: its context is
        read for ``INDEX.md``; nothing of it is rendered, checked or written."""
        return cls(ctx, b"", b"", ok=False, folder=None)

    @property
    def files(self) -> list[Planned]:
        if not self.ok or self.folder is None:
            return []
        return [
            Planned(self.folder / CONTEXT_MD, self.markdown),
            Planned(self.folder / CONTEXT_JSON, self.document),
        ]


class RenderCache:
    """Each session's last rendering, by what it was rendered from, for a process that syncs
    again and again (the export loop).

    A sync renders every session, since ``INDEX.md`` and the repo files summarise them all; most
    are unchanged since the previous sync (one incident moved, or one session heartbeated), and
    their documents are a pure function of the session's context, the fence key and the notes
    gone stale: the same inputs give the bytes and the checks' verdicts of last time. The
    context is still read from the DB and compared whole, so nothing can be stale that a sync
    without the cache would have changed.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[_RenderInputs, bytes, bytes, dict[str, list[str]]]] = {}

    def rendered(self, inputs: _RenderInputs) -> tuple[bytes, bytes, dict[str, list[str]]] | None:
        entry = self._entries.get(inputs.ctx.session.id)
        if entry is None or entry[0] != inputs:
            return None
        return entry[1], entry[2], entry[3]

    def keep(
        self,
        inputs: _RenderInputs,
        markdown: bytes,
        document: bytes,
        problems: dict[str, list[str]],
    ) -> None:
        self._entries[inputs.ctx.session.id] = (inputs, markdown, document, problems)

    def forget_all_but(self, session_ids: set[str]) -> None:
        """Drop the sessions no longer exported (ended), so the cache never outgrows them."""
        for gone in self._entries.keys() - session_ids:
            del self._entries[gone]


@dataclass(frozen=True)
class _RenderInputs:
    """Everything a session's two documents are rendered from."""

    ctx: SessionContext
    key: bytes
    stale: Mapping[str, list[str]]


def sync(
    store: Store,
    settings: Settings,
    *,
    check_only: bool = False,
    session_ids: list[str] | None = None,
    cache: RenderCache | None = None,
) -> ExportReport:
    """Bring the export directory (and enabled repo files) in line with the DB.

    ``session_ids`` limits which session folders are written or removed; ``INDEX.md`` and the
    repo files, which summarise every session, are always brought up to date. ``cache``: the
    renderings of the previous syncs of this process (:class:`RenderCache`).
    """
    root = settings.export.dir.expanduser()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root = root.resolve()
    report = ExportReport(root=root, check_only=check_only)
    only = None if session_ids is None else set(session_ids)
    with _locked(root):
        sessions = _render_sessions(store, settings, root, report, cache, only)
        planned = [p for sid, s in sessions.items() if only is None or sid in only for p in s.files]
        contexts = [s.ctx for s in sessions.values()]
        planned.append(Planned(root / INDEX_MD, render_index(list_incidents(store.conn), contexts)))
        keep = {sid for sid, s in sessions.items() if not s.ok}
        live = {sid for sid, s in sessions.items() if s.ok}
        planned += folder_extras(root / SESSIONS, live, keep, only, {CONTEXT_MD, CONTEXT_JSON})
        repos = _plan_repos(store, settings, root, sessions)
        planned += repos.planned
        report.failed += [Failure(str(r), [why]) for r, why in repos.failures.items()]
        strays = [*stray_temp_files(root, recursive=True), *repo_files.stray_files(repos.roots)]
        planned += [Planned(stray, None) for stray in strays]
        if check_only:
            compare(planned, report)
            return report
        apply(planned, report)
        remove_empty_folders(root / SESSIONS, set(sessions))
        repo_files.save_roots(root / REPO_ROOTS, repos)
        _journal_failures(store, report.failed)
        _record_deliveries(store, sessions, only, report)
    return report


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _render_sessions(
    store: Store,
    settings: Settings,
    root: Path,
    report: ExportReport,
    cache: RenderCache | None,
    only: set[str] | None,
) -> dict[str, _Session]:
    """Every session not ended, rendered and checked (of those outside ``only``, the ones a
    repo file shows); what fails goes to the report.

    Performance: a decision made by the CLI itself syncs its sessions alone, and rendering and
    checking every other session's documents, to write none of them, was most of its sync
    (~0.7 ms a session: 140 ms of an approval at 200 open sessions).
    """
    key = fence_key(store)
    rules = Rules.from_settings(settings)
    timing = rules.timing
    now = store.clock.now()
    shared = SharedReads.read(store.conn)
    writers_enabled = bool(settings.export.repo_writers)
    rendered: dict[str, _Session] = {}
    for session in store.tables().open_sessions():
        if session.state(now, timing.idle_after, timing.end_after) is SessionState.ENDED:
            continue
        ctx = build_session_context(store.conn, session.id, contact=rules.contact, shared=shared)
        if ctx is None:
            continue
        checkout = repo_files.find_checkout(ctx.session.cwd) if writers_enabled else None
        if only is not None and session.id not in only and checkout is None:
            rendered[session.id] = _Session.unrendered(ctx)
            continue
        inputs = _RenderInputs(ctx, key, stale_notes(ctx.notes, now))
        known = cache.rendered(inputs) if cache is not None else None
        if known is not None:
            markdown, document, problems = known
        else:
            markdown, document = context_files(ctx, key, inputs.stale)
            problems = {
                CONTEXT_MD: render.parse_markdown_check(markdown.decode("utf-8")),
                CONTEXT_JSON: _json_problems(document),
            }
            if cache is not None:
                cache.keep(inputs, markdown, document, problems)
        folder: Path | None = None
        try:
            folder = contained(root, SESSIONS, session.id)
        except UnsafePathError as exc:
            report.failed.append(Failure(f"{SESSIONS}/{session.id}", [str(exc)], session.id))
        for name, found in problems.items():
            if found:
                report.failed.append(Failure(f"{SESSIONS}/{session.id}/{name}", found, session.id))
        # A session's two files describe one state: both are written, or neither.
        ok = not any(problems.values())
        rendered[session.id] = _Session(ctx, markdown, document, ok, folder, checkout)
    if cache is not None:
        cache.forget_all_but(set(rendered))
    return rendered


def context_files(
    ctx: SessionContext, key: bytes, stale_notes: Mapping[str, list[str]]
) -> tuple[bytes, bytes]:
    """The exact bytes of a session's ``CONTEXT.md`` and ``context.json``, before any check."""
    markdown = render.render_markdown(ctx, key, stale_notes=stale_notes)
    document = render.render_json(ctx, key, stale_notes=stale_notes)
    return markdown.encode("utf-8"), _json_bytes(document)


def _json_bytes(document: ContextDocument) -> bytes:
    return (document.model_dump_json(indent=2) + "\n").encode("utf-8")


def _json_problems(data: bytes) -> list[str]:
    """Whether tools can read the file back: it validates and re-serialises to the same bytes."""
    try:
        parsed = ContextDocument.model_validate_json(data)
    except ValidationError as exc:
        return [f"{location(e['loc'])}: {describe_problem(e)}" for e in exc.errors()]
    return (
        [] if _json_bytes(parsed) == data else ["the document does not survive a JSON round trip"]
    )


def _plan_repos(
    store: Store, settings: Settings, root: Path, sessions: dict[str, _Session]
) -> repo_files.RepoPlan:
    enabled = list(dict.fromkeys(settings.export.repo_writers))
    catalog = Catalog(services=store.tables().get_catalog(), source="store")
    checkouts: dict[Path, list[repo_files.CheckoutSession]] = {}
    for sid, item in sessions.items():
        checkout = item.checkout
        if checkout is None or not item.files:
            continue
        incidents = [ic.incident for ic in item.ctx.incidents]
        degraded = {s for i in incidents for s in i.services}
        checkouts.setdefault(checkout, []).append(
            repo_files.CheckoutSession(
                session_id=sid,
                agent=item.ctx.session.agent.value,
                context_path=item.files[0].path,
                markdown=item.markdown.decode("utf-8"),
                incidents=incidents,
                globs=repo_files.cursor_globs(catalog, item.ctx.session.repo, degraded),
            )
        )
    return repo_files.plan_repos(root / REPO_ROOTS, checkouts, enabled)


def _journal_failures(store: Store, failures: list[Failure]) -> None:
    """Append each failure once: the same file failing the same way again is not news.

    This also keeps a persistent failure from feeding the export loop (an entry moves the
    journal, the loop syncs, the sync fails again...).
    """
    if not failures:
        return
    recent = store.conn.execute(
        f"SELECT body FROM journal WHERE kind = ? AND {JOURNAL_KIND_INDEXED}"
        " ORDER BY seq DESC LIMIT 500",
        (Kind.EXPORT_FAILED.value,),
    ).fetchall()
    last: dict[str, list[str]] = {}
    for (body,) in reversed(recent):
        failed = ExportFailed.from_json(json.loads(body))
        last[failed.file] = failed.problems
    fresh = [f for f in failures if last.get(f.file) != f.problems]
    if fresh:
        with store.write() as writer:
            for failure in fresh:
                writer.append(
                    ExportFailed(failure.file, failure.problems, failure.session_id),
                    actor="exporter",
                )


def _record_deliveries(
    store: Store, sessions: dict[str, _Session], only: set[str] | None, report: ExportReport
) -> None:
    """Journal that the pushes now in a session's file reached it through the file.

    Only once both files are in place, and only pushes not yet recorded for the file channel:
    a crash between writing and recording is made good by the next sync, without duplicates.
    ``through_seq`` stays 0: a file on disk is no proof the agent read it (Claude Code loads
    ``CLAUDE.md`` imports only at session start), so the session's ``last_context_seq``, where
    hook and MCP deltas start, must not move, or the hook would stay silent about a new incident.
    """
    failed = {f.file for f in report.failed}
    for sid, item in sessions.items():
        files = item.files
        if (only is not None and sid not in only) or not files:
            continue
        if any(str(p.path) in failed for p in files):
            continue
        pushes = [p for ic in item.ctx.incidents for p in ic.carried] + item.ctx.stand_downs
        new = list(dict.fromkeys(p.id for p in pushes if FILE_CHANNEL not in p.reached_via))
        if new:
            record_delivery(store, sid, new, FILE_CHANNEL, through_seq=0)
            report.delivered[sid] = new
