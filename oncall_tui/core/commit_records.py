"""How commits and deploy ranges are written in the journal, and how two records of one commit
combine (pure: no IO).

A commit can be recorded more than once: by the session's hook when the agent committed, then by
the trailer scan that finds the same sha later. The first record that named a session keeps it,
so a later scan (which only guesses the session from the repository and the time) never moves a
commit the hook saw to another session.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from oncall_tui.core.clock import iso
from oncall_tui.core.commits import Commit, CommitSource, DeployRange

__all__ = [
    "MAX_FILES",
    "MAX_RANGE_SHAS",
    "MAX_SUBJECT_CHARS",
    "Commit",
    "DeployRange",
    "capped",
    "commit_from_json",
    "commit_to_json",
    "deploy_from_json",
    "deploy_to_json",
    "merge_commit",
]
"""The value types are named here too, for the journal's bodies that carry them."""

MAX_SUBJECT_CHARS = 200
"""The subject is someone's typing: a first line is enough to recognise a commit."""
MAX_FILES = 200
"""Paths kept per commit: a vendored tree can change thousands, the first ones tell the story."""
MAX_RANGE_SHAS = 1000
"""Commits kept per deploy range (a first deploy of a long history is capped by its caller)."""


def commit_to_json(commit: Commit) -> dict[str, Any]:
    """The body of a ``commit.recorded`` entry: the commit's fields, its time as ISO text;
    unset optional fields are left out."""
    data: dict[str, Any] = {
        "sha": commit.sha,
        "repo": commit.repo,
        "authored_at": iso(commit.authored_at),
        "subject": commit.subject,
        "files": list(commit.files),
        "parents": list(commit.parents),
        "trailer": commit.trailer,
    }
    for key in ("session_id", "agent", "source"):
        value = getattr(commit, key)
        if value is not None:
            data[key] = str(value)
    return data


def commit_from_json(data: dict[str, Any]) -> Commit:
    source = data.get("source")
    return Commit(
        sha=str(data["sha"]),
        repo=str(data["repo"]),
        authored_at=datetime.fromisoformat(str(data["authored_at"])),
        subject=str(data.get("subject", "")),
        files=tuple(str(f) for f in data.get("files", ())),
        parents=tuple(str(p) for p in data.get("parents", ())),
        session_id=data.get("session_id"),
        agent=data.get("agent"),
        source=CommitSource(source) if source is not None else None,
        trailer=str(data.get("trailer", "")),
    )


def deploy_to_json(deploy: DeployRange) -> dict[str, Any]:
    """The body of a ``deploy.range_resolved`` entry."""
    data: dict[str, Any] = {
        "signal_id": deploy.signal_id,
        "service": deploy.service,
        "repo": deploy.repo,
        "sha": deploy.sha,
        "shas": list(deploy.shas),
        "via": deploy.via,
    }
    if deploy.previous_sha is not None:
        data["previous_sha"] = deploy.previous_sha
    return data


def deploy_from_json(data: dict[str, Any]) -> DeployRange:
    return DeployRange(
        signal_id=int(data["signal_id"]),
        service=str(data["service"]),
        repo=str(data["repo"]),
        sha=str(data["sha"]),
        previous_sha=data.get("previous_sha"),
        shas=tuple(str(s) for s in data.get("shas", ())),
        via=str(data.get("via", "git")),
    )


def capped(commit: Commit) -> Commit:
    """``commit`` with its subject reduced to a capped first line and its files capped."""
    subject = commit.subject.split("\n", 1)[0][:MAX_SUBJECT_CHARS]
    return replace(commit, subject=subject, files=commit.files[:MAX_FILES])


def merge_commit(known: Commit | None, incoming: Commit) -> Commit:
    """What is kept when ``incoming`` records a commit already ``known``.

    The first session attribution stays (with its agent and source); facts the first record
    lacked (files, parents, a trailer, a subject) are filled from the later one.
    """
    if known is None:
        return incoming
    attributed = known if known.session_id is not None else incoming
    if attributed.session_id is None and known.agent is not None:
        attributed = known  # neither names a session: the first agent guess stays too
    return replace(
        known,
        session_id=attributed.session_id,
        agent=attributed.agent or known.agent or incoming.agent,
        source=attributed.source or known.source or incoming.source,
        subject=known.subject or incoming.subject,
        files=known.files or incoming.files,
        parents=known.parents or incoming.parents,
        trailer=known.trailer or incoming.trailer,
    )
