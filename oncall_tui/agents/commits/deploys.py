"""Deploys to commits: the range of commits each deploy of a service shipped.

A deploy signal names a sha (GitHub's ``deployment.sha``; an Events v2 change's or a CloudEvent's
``sha``/``commit``/``revision`` detail) and a service. Its range runs from the previous deploy
of the same service (exclusive) to its sha, as ``git rev-list PREV..SHA`` tells it in a
configured local clone, or as the GitHub compare API tells it when a token is configured. The
first deploy of a service has no previous one: its range is the sha's newest ancestors.

Resolution runs after the deploy was recorded (the serve loop, ``commits resolve``), never on
the receiver's path, and a deploy whose range cannot be told yet (no clone, the sha not fetched
into it) stays unresolved and is tried again on the next round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from oncall_tui.agents.commits.git import rev_list
from oncall_tui.agents.commits.record import record_deploy_range
from oncall_tui.config import ReposSettings
from oncall_tui.core.commit_records import MAX_RANGE_SHAS
from oncall_tui.core.commits import DeployRange
from oncall_tui.core.models import SignalKind, SignalStatus, StoredSignal
from oncall_tui.store.commits import resolved_signal_ids
from oncall_tui.store.journal import Store

SHA_LABELS = ("sha", "commit", "commit_sha", "git_sha", "revision", "git_commit")
"""Labels of a deploy signal that may hold the deployed sha, in order of preference."""
REPO_LABELS = ("repository", "repo", "git_repository")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
GITHUB_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_DONE = (SignalStatus.SUCCESS,)
"""Only a deploy that went out shipped its commits (GitHub reports pending, in_progress...)."""


@dataclass
class ResolveReport:
    resolved: list[DeployRange] = field(default_factory=list)
    unresolved: list[int] = field(default_factory=list)
    """Deploy signals whose range could not be told (yet)."""


@dataclass(frozen=True)
class DeployFacts:
    """What a deploy signal says about the code it shipped."""

    signal_id: int
    service: str
    repo: str
    sha: str


def deploy_facts(stored: StoredSignal, repo_of_service: Mapping[str, str]) -> DeployFacts | None:
    """The sha and repository a deploy signal names; None when it names no sha or service."""
    signal = stored.signal
    if signal.kind is not SignalKind.DEPLOY or signal.status not in _DONE or not signal.service:
        return None
    sha = next((signal.labels[k] for k in SHA_LABELS if _SHA.match(signal.labels.get(k, ""))), "")
    repo = next(
        (signal.labels[k] for k in REPO_LABELS if _REPO.match(signal.labels.get(k, ""))), ""
    )
    repo = repo or repo_of_service.get(signal.service, "")
    if not sha or not repo:
        return None
    return DeployFacts(stored.id, signal.service, repo, sha.lower())


def resolve_deploys(
    store: Store,
    repos: ReposSettings,
    *,
    service: str | None = None,
    first_depth: int = 200,
    transport: httpx.BaseTransport | None = None,
) -> ResolveReport:
    """Resolve and journal the range of every deploy not resolved yet (of ``service`` only)."""
    catalog = store.tables().get_catalog()
    repo_of_service = {name: s.repo for name, s in catalog.items() if s.repo}
    done = resolved_signal_ids(store.conn)
    deploys = [
        facts
        for stored in _deploy_signals(store, service)
        if (facts := deploy_facts(stored, repo_of_service)) is not None
    ]
    report = ResolveReport()
    previous: dict[str, DeployFacts] = {}
    for facts in deploys:  # in the order they were recorded
        before = previous.get(facts.service)
        if before is not None and before.sha == facts.sha:
            continue  # the same code deployed again (a retried status): nothing new shipped
        previous[facts.service] = facts
        if facts.signal_id in done:
            continue
        base = before.sha if before is not None else None
        found = commit_range(repos, facts.repo, facts.sha, base, first_depth, transport)
        if found is None:
            report.unresolved.append(facts.signal_id)
            continue
        shas, via = found
        deploy = DeployRange(
            signal_id=facts.signal_id,
            service=facts.service,
            repo=facts.repo,
            sha=facts.sha,
            previous_sha=base,
            shas=tuple(shas[:MAX_RANGE_SHAS]),
            via=via,
        )
        if record_deploy_range(store, deploy):
            report.resolved.append(deploy)
    return report


def commit_range(
    repos: ReposSettings,
    repo: str,
    sha: str,
    base: str | None,
    first_depth: int,
    transport: httpx.BaseTransport | None = None,
) -> tuple[list[str], str] | None:
    """The shas from ``base`` (exclusive) to ``sha``, newest first, and how they were found."""
    clone = repos.clone(repo)
    if clone is not None and clone.is_dir():
        limit = MAX_RANGE_SHAS if base else first_depth
        shas = rev_list(str(clone), sha, base, limit)
        if shas:
            return shas, "git"
    if repos.github.token is not None:
        found = github_range(repos, repo, sha, base, first_depth, transport)
        if found is not None:
            return found, "github"
    return None


def github_range(
    repos: ReposSettings,
    repo: str,
    sha: str,
    base: str | None,
    first_depth: int,
    transport: httpx.BaseTransport | None = None,
) -> list[str] | None:
    """The range through GitHub's REST API: ``compare/BASE...HEAD`` (oldest first, so it is
    reversed), or the sha's newest ancestors (``commits?sha=``) for a first deploy."""
    token = repos.github.token
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "oncall-tui",
        **({"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}),
    }
    api = repos.github.api_url.rstrip("/")
    try:
        with httpx.Client(headers=headers, timeout=GITHUB_TIMEOUT, transport=transport) as client:
            if base:
                answer = client.get(f"{api}/repos/{repo}/compare/{base}...{sha}")
                commits = _commit_list(answer, "commits")
                return None if commits is None else list(reversed(commits))
            answer = client.get(
                f"{api}/repos/{repo}/commits",
                params={"sha": sha, "per_page": min(first_depth, 100)},
            )
            return _commit_list(answer, None)
    except httpx.HTTPError:
        return None


def _commit_list(answer: httpx.Response, key: str | None) -> list[str] | None:
    if answer.status_code != 200:
        return None
    try:
        data: Any = answer.json()
    except ValueError:
        return None
    items = data.get(key) if key is not None and isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    shas = [str(item["sha"]) for item in items if isinstance(item, dict) and "sha" in item]
    return [s for s in shas if _SHA.match(s)]


def _deploy_signals(store: Store, service: str | None) -> list[StoredSignal]:
    sql = "SELECT data FROM signals WHERE kind = ? AND status = ?"
    params: list[object] = [SignalKind.DEPLOY.value, SignalStatus.SUCCESS.value]
    if service is not None:
        sql += " AND service = ?"
        params.append(service)
    rows = store.conn.execute(sql + " ORDER BY occurred_at, id", params).fetchall()
    return [StoredSignal.model_validate_json(data) for (data,) in rows]
