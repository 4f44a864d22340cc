"""Journal commits and deploy ranges: ``commit.recorded`` and ``deploy.range_resolved``.

A commit already recorded is journaled again only when the new record adds something the
projection does not hold (a session, files, a trailer): repeated scans of one repository must
not grow the journal.
"""

from __future__ import annotations

from collections.abc import Iterable

from oncall_tui.agents.commits.git import GitCommit
from oncall_tui.core.commit_records import capped, merge_commit
from oncall_tui.core.commits import Commit, CommitSource, DeployRange
from oncall_tui.core.journal import CommitRecorded, DeployRangeResolved
from oncall_tui.core.sanitize import clean
from oncall_tui.store.journal import Store

MAX_REPO_CHARS = 200


def to_commit(
    found: GitCommit,
    repo: str,
    *,
    source: CommitSource,
    session_id: str | None,
    agent: str | None,
    trailer: str = "",
) -> Commit:
    """The journal's value of a commit git printed, its typed text cleaned and capped."""
    return capped(
        Commit(
            sha=found.sha,
            repo=clean(repo, MAX_REPO_CHARS),
            authored_at=found.authored_at,
            subject=clean(found.subject),
            files=found.files,
            parents=found.parents,
            session_id=session_id,
            agent=agent,
            source=source,
            trailer=clean(trailer),
        )
    )


def record_commits(store: Store, commits: Iterable[Commit], actor: str) -> list[Commit]:
    """Journal the commits that add to what is known, in one transaction; returns those."""
    written: list[Commit] = []
    with store.write() as writer:
        for commit in commits:
            known = writer.tables.get_commit(commit.sha)
            if known is not None and merge_commit(known, commit) == known:
                continue
            writer.append(CommitRecorded(commit), actor=actor)
            written.append(commit)
    return written


def record_deploy_range(store: Store, deploy: DeployRange, actor: str = "engine") -> bool:
    """Journal the deploy's range, unless it is known already (another serve on the database,
    or ``commits resolve`` beside serve, resolved it meanwhile): decided under the write lock,
    so a range is journaled once. Whether it was journaled here."""
    with store.write() as writer:
        known = writer.conn.execute(
            "SELECT 1 FROM deploy_ranges WHERE signal_id = ?", (deploy.signal_id,)
        ).fetchone()
        if known is not None:
            return False
        writer.append(DeployRangeResolved(deploy), actor=actor)
        return True
