"""Discovery: read the recent transcripts, and register the sessions no hook told us about.

A session found here is registered with ``discovered`` as its source, its agent kind, the repo
of its working directory's checkout and the files its tools named, relative to the repo root.
One already known (its hook registered it, or an earlier discovery) is never registered again,
so its kind and source stay; it is heartbeated when its transcript moved since we last saw it.
The commits its committing shell calls made are then journaled (``discover.commits``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from oncall_tui.actions import Rules
from oncall_tui.actions import sessions as session_actions
from oncall_tui.agents.discover import files
from oncall_tui.agents.discover.claude_code import parse_transcript
from oncall_tui.agents.discover.codex import parse_rollout
from oncall_tui.agents.discover.commits import record_transcript_commits
from oncall_tui.agents.discover.facts import CommitCall, TranscriptFacts
from oncall_tui.agents.repo import RepoInfo, relative_paths, repo_info, repo_slug, slug_from_url
from oncall_tui.config import DiscoverSettings
from oncall_tui.core.agents import AgentKind, InvalidIdError, validate_session_id
from oncall_tui.core.commits import Commit
from oncall_tui.store.journal import Store

SOURCE = "discovered"
ACTOR = "discovery"
"""Who the journal says registered a found session (no engineer did, nor the session)."""


class Outcome(StrEnum):
    REGISTERED = "registered"
    HEARTBEAT = "heartbeat"
    UNCHANGED = "unchanged"
    """Known, and its transcript shows nothing newer than what we last saw."""
    INACTIVE = "inactive"
    """Its newest line is older than the activity window (the file was touched otherwise)."""


@dataclass(frozen=True)
class FoundSession:
    """One session read from a transcript: metadata only."""

    session_id: str
    agent: AgentKind
    repo: str | None
    cwd: str | None
    branch: str | None
    paths: list[str]
    """Relative to the repo root; files outside the checkout are left out."""
    last_activity: datetime
    transcript: Path
    outcome: Outcome
    commit_calls: tuple[CommitCall, ...] = ()
    """When (and where) it ran a committing git command: the time and directory only."""


@dataclass
class DiscoveryReport:
    found: list[FoundSession] = field(default_factory=list)
    skipped_lines: int = 0
    """Lines no parser could read, over every transcript read."""
    skipped_files: int = 0
    """Transcripts that could not be read, or named no session."""
    dry_run: bool = False
    commits: list[Commit] = field(default_factory=list)
    """Commits of the found sessions journaled by this scan (new, or adding a session)."""


Parser = Callable[[list[str]], TranscriptFacts]


def discover(
    store: Store,
    rules: Rules,
    settings: DiscoverSettings,
    *,
    dry_run: bool = False,
    read_before: dict[Path, float] | None = None,
) -> DiscoveryReport:
    """Scan both roots; register or heartbeat the active sessions unless ``dry_run``.

    ``read_before`` (kept by a caller that scans again and again) maps the files settled in an
    earlier round to their modification time then: those unchanged are not read again, and
    this round's are added.
    """
    now = store.clock.now()
    since = now - timedelta(seconds=settings.active_within_s)
    report = DiscoveryReport(dry_run=dry_run)
    claude_root = settings.claude_projects.expanduser()
    codex_root = settings.codex_sessions.expanduser()
    sources: list[tuple[AgentKind, Parser, bool, list[files.Transcript]]] = [
        (
            AgentKind.CLAUDE_CODE,
            parse_transcript,
            False,
            files.claude_transcripts(claude_root, since),
        ),
        (AgentKind.CODEX, parse_rollout, True, files.codex_rollouts(codex_root, since, now)),
    ]
    seen: set[str] = set()
    checkouts: dict[str, RepoInfo] = {}  # git is asked once per working directory
    for agent, parse, with_first, transcripts in sources:
        for transcript in transcripts:
            if read_before is not None and read_before.get(transcript.path) == transcript.modified:
                continue
            found = _read(transcript, agent, parse, with_first, report, checkouts)
            if found is not None and found.session_id not in seen:
                # (A session already in ``seen`` was read from a newer file: a resume, a fork.)
                seen.add(found.session_id)
                report.found.append(_settle(store, rules, found, since, dry_run))
            if read_before is not None:
                read_before[transcript.path] = transcript.modified
    if read_before is not None:
        listed = {transcript.path for *_, transcripts in sources for transcript in transcripts}
        for path in [p for p in read_before if p not in listed]:
            del read_before[path]  # out of the window, or gone: forget it
    if not dry_run:
        report.commits = record_transcript_commits(store, report.found, since, ACTOR)
    return report


def _read(
    transcript: files.Transcript,
    agent: AgentKind,
    parse: Parser,
    with_first: bool,
    report: DiscoveryReport,
    checkouts: dict[str, RepoInfo],
) -> FoundSession | None:
    try:
        facts = parse(files.read_lines(transcript.path, with_first=with_first))
    except OSError:
        report.skipped_files += 1
        return None
    report.skipped_lines += facts.skipped
    session_id = facts.session_id
    try:
        # No session named in what we read (garbage, or a header cut off): nothing to register.
        validate_session_id(session_id or "")
    except InvalidIdError:
        report.skipped_files += 1
        return None
    assert session_id is not None
    repo, branch, paths = _where(facts, checkouts)
    modified = datetime.fromtimestamp(transcript.modified, tz=UTC)
    return FoundSession(
        session_id=session_id,
        agent=agent,
        repo=repo,
        cwd=facts.cwd,
        branch=branch,
        paths=paths,
        last_activity=facts.last_activity or modified,
        transcript=transcript.path,
        outcome=Outcome.UNCHANGED,
        commit_calls=tuple(facts.commit_calls),
    )


def _where(
    facts: TranscriptFacts, checkouts: dict[str, RepoInfo]
) -> tuple[str | None, str | None, list[str]]:
    """Repo slug, branch and repo-relative paths from the working directory's checkout; the
    remote the agent recorded when the checkout is not here."""
    cwd = facts.cwd
    if cwd is not None and cwd not in checkouts:
        checkouts[cwd] = repo_info(cwd)
    info = checkouts.get(cwd) if cwd is not None else None
    if cwd is None or info is None or info.root is None:
        slug = slug_from_url(facts.repository_url) if facts.repository_url else None
        return slug, facts.branch, []
    paths = relative_paths(facts.path_list, info.root, cwd)
    return repo_slug(info.root), info.branch or facts.branch, paths


def _settle(
    store: Store, rules: Rules, found: FoundSession, since: datetime, dry_run: bool
) -> FoundSession:
    """Register it, heartbeat it or leave it, and say which."""
    known = store.tables().get_session(found.session_id)
    if found.last_activity < since:
        outcome = Outcome.INACTIVE
    elif known is None:
        outcome = Outcome.REGISTERED
    elif found.last_activity > known.last_seen:
        outcome = Outcome.HEARTBEAT
    else:
        outcome = Outcome.UNCHANGED
    settled = replace(found, outcome=outcome)
    if dry_run:
        return settled
    if outcome is Outcome.REGISTERED:
        session_actions.register(
            store,
            rules,
            found.session_id,
            agent=found.agent,
            repo=found.repo,
            cwd=found.cwd,
            branch=found.branch,
            paths=found.paths,
            actor=ACTOR,
            source=SOURCE,
            seen_at=found.last_activity,
        )
    elif outcome is Outcome.HEARTBEAT:
        session_actions.heartbeat(
            store, rules, found.session_id, paths=found.paths, branch=found.branch
        )
    return settled
