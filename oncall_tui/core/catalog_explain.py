"""Why a file belongs to a service: the reasons behind :func:`~oncall_tui.core.topology.match_path`.

Targeting is only trusted when it can be checked. ``catalog show --explain PATH`` answers "whose
file is this, and says who?" with the glob that matched and where it came from: a line of the
catalog, a Backstage annotation, a CODEOWNERS rule. It also names the services a later
CODEOWNERS rule took the file away from, because "why is my team not targeted?" is the other
half of the question. Not on a hot path: it favours plain walking over the compiled index.
"""

from __future__ import annotations

from dataclasses import dataclass

from oncall_tui.core.topology import (
    WHOLE_REPO,
    Catalog,
    PathRule,
    PathRuleSet,
    Service,
    glob_matches,
    repo_matches,
)


@dataclass(frozen=True)
class Reason:
    """One service's claim on a file, and whether it holds."""

    service: str
    owns: bool
    why: str


def explain_path(catalog: Catalog, repo: str | None, path: str) -> list[Reason]:
    """The services that own ``path`` in ``repo``, and those a later rule overrode, by name.

    Agrees with :func:`~oncall_tui.core.topology.match_path`: the services with ``owns`` are
    exactly the ones it returns.
    """
    reasons: list[Reason] = []
    for name in sorted(catalog.services):
        service = catalog.services[name]
        reason = _by_paths(service, repo, path, catalog.source)
        for rule_set in service.path_rules:
            if reason is not None and reason.owns:
                break
            if repo_matches(rule_set.repo, repo):
                reason = _by_rules(service.name, rule_set, path) or reason
        if reason is not None:
            reasons.append(reason)
    return reasons


def _by_paths(service: Service, repo: str | None, path: str, source: str) -> Reason | None:
    if not repo_matches(service.repo, repo):
        return None
    if service.owns_whole_repo() and repo is not None:
        return Reason(service.name, True, f"owns the whole repo {service.repo} (no paths)")
    for glob in service.paths:
        if glob_matches(glob, path):
            origin = service.path_origins.get(glob) or f"paths of the catalog ({source})"
            return Reason(service.name, True, f"glob {glob} from {origin}")
    return None


def _by_rules(name: str, rule_set: PathRuleSet, path: str) -> Reason | None:
    matching = [rule for rule in rule_set.rules if glob_matches(rule.glob, path)]
    if not matching:
        return None
    last = matching[-1]
    if last.owned:
        return Reason(name, True, f"{_where(last)} is the last rule matching it")
    own = next((rule for rule in reversed(matching) if rule.owned), None)
    if own is None:
        return None
    why = f"{_where(own)} is overridden by the later {_where(last)}"
    return Reason(name, False, why)


def _where(rule: PathRule) -> str:
    glob = "" if rule.glob == WHOLE_REPO else f" (glob {rule.glob})"
    return f"{rule.origin}{glob}"
