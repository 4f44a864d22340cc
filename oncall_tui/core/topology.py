"""The service catalog as a graph: blast radius, and which services a file belongs to.

Targeting asks two questions many times a second: "which services are hurt when these are
degraded?" and "which service does this file an agent touched belong to?". Both are answered here,
purely, from a :class:`Catalog`; reading catalog files lives in :mod:`oncall_tui.core.catalog_yaml`.

Path globs are CODEOWNERS-like and always relative to the repository root:

- ``*`` matches within one path segment, ``?`` one character other than ``/``;
- ``**`` as a whole segment matches any number of directories, including none
  (``a/**/b`` matches ``a/b``; ``a/**`` matches ``a`` and everything under it);
- a trailing ``/`` means the directory and everything under it (``a/`` is ``a/**``);
- every other character is literal (no ``[...]`` classes: Next.js routes like ``[id].tsx`` are
  real file names), and matching is case-sensitive, as git is;
- unlike gitignore, a pattern without a slash is still anchored at the root: a service owns a
  place in the tree, not a file name everywhere (write ``**/Dockerfile`` for that).

A service owns a file when one of its ``paths`` matches it, or when one of its
:class:`PathRuleSet` says so. A rule set is an ordered file of rules where the last matching rule
decides (CODEOWNERS): a file matched by an early rule of the service and a later rule of another
team is not the service's. Each service keeps, per such file, the suffix of the rules that starts
at its own first rule: its rules marked ``owned``, the later rules of others that can overlap
them marked not owned (see :mod:`oncall_tui.core.codeowners`). That keeps every service
self-contained (a service's ownership can be read, stored and explained alone) at the cost of
repeating the other teams' later rules in each service, which pruning by literal prefix keeps
small. A union of globs with exclusions could not say "owned again by a still later rule".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from oncall_tui.core.models import Link

WHOLE_REPO = "**"
"""The glob reported for a service with a repo but no ``paths``: it owns the whole repo."""


class PathRule(BaseModel):
    """One rule of an ordered, last-match-wins ownership file, as one service sees it."""

    # Validators are built on first use, not at import: a short-lived command (a hook, an
    # approval) pays only for the models it validates.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    glob: str
    owned: bool = True
    """Whether the service owns the files this rule is the last match of; ``False`` for a later
    rule of other owners (or of nobody), which takes the files it matches away."""
    origin: str = ""
    """Where the rule is written and for whom, for ``catalog show --explain``."""

    @field_validator("glob")
    @classmethod
    def _normalise_glob(cls, glob: str) -> str:
        return normalize_glob(glob)


class PathRuleSet(BaseModel):
    """The rules of one ownership file (a repository's CODEOWNERS) that concern one service."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    repo: str | None
    """The repository the file governs; its globs are relative to that repo's root."""
    source: str
    rules: list[PathRule]


_OMITTED_WHEN_EMPTY = ("path_rules", "path_origins")


class Service(BaseModel):
    """One deployable service, where its code lives, and what it depends on."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str
    repo: str | None = None
    """``owner/name`` slug, URL or bare name; ``None`` means "any repo" (paths decide alone)."""
    paths: list[str] = Field(default_factory=list)
    """Globs relative to the repo root. Empty with a ``repo`` set: the service is the whole repo."""
    owners: list[str] = Field(default_factory=list)
    runbooks: list[Link] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    description: str = ""
    path_rules: list[PathRuleSet] = Field(default_factory=list)
    """Ordered ownership files (CODEOWNERS) that give the service files, last match wins."""
    path_origins: dict[str, str] = Field(default_factory=dict)
    """Why each of ``paths`` is there (file, line, annotation), for ``catalog show --explain``."""

    @field_validator("paths")
    @classmethod
    def _normalise_paths(cls, paths: list[str]) -> list[str]:
        return [normalize_glob(p) for p in paths]

    @model_serializer(mode="wrap")
    def _omit_empty_provenance(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Catalogs journaled before these fields existed must encode back to the same text.
        data: dict[str, Any] = handler(self)
        for key in _OMITTED_WHEN_EMPTY:
            if key in data and not data[key]:
                del data[key]
        return data

    def owns_whole_repo(self) -> bool:
        """A service with a repo and no paths owns it all, unless an ownership file says more."""
        return (
            self.repo is not None
            and not self.paths
            and not any(repo_matches(rs.repo, self.repo) for rs in self.path_rules)
        )

    def repos(self) -> list[str]:
        """Every repository the service explicitly has code in."""
        named = [self.repo, *(rs.repo for rs in self.path_rules)]
        return list(dict.fromkeys(r for r in named if r is not None))


class Catalog(BaseModel):
    """All known services by name. ``source`` names the file(s) it came from, for messages."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    services: dict[str, Service] = Field(default_factory=dict)
    source: str = ""
    _index: _IndexSlot = PrivateAttr(default_factory=lambda: _IndexSlot())

    @model_validator(mode="after")
    def _check_graph(self) -> Catalog:
        """Keep the invariants the graph walks rely on, however the catalog was built."""
        for key, service in self.services.items():
            if key != service.name:
                raise ValueError(f"service {service.name!r} is filed under the key {key!r}")
            for dep in service.depends_on:
                if dep not in self.services:
                    raise ValueError(f"service {key!r} depends on unknown service {dep!r}")
        return self


def blast_radius(catalog: Catalog, degraded: Iterable[str]) -> dict[str, list[str]]:
    """Every degraded service and every service that depends on one, transitively.

    Each maps to its dependency path, from itself down to a degraded service, so the engineer can
    see *why* a service is in the radius. The shortest path wins and, among equally short ones,
    the alphabetically smallest: the answer must not change between runs or the reasons shown
    to engineers would flicker. A breadth-first walk over reversed edges gives both and stops on
    cycles. Degraded services the catalog does not know (an alert label with a typo, a service
    not catalogued yet) still appear, with a one-element path: losing them would hide an incident.
    The result is ordered by distance, then name.
    """
    dependents: dict[str, list[str]] = {}
    for service in catalog.services.values():
        for dep in service.depends_on:
            dependents.setdefault(dep, []).append(service.name)

    result = {name: [name] for name in sorted(set(degraded))}
    frontier = list(result)
    while frontier:
        # Paths in a layer are equally long, so the smallest [s, *path[t]] has the smallest
        # path[t]; and path[t] is already the smallest for t, so this is the smallest for s.
        best: dict[str, list[str]] = {}
        for target in frontier:
            for dependent in dependents.get(target, ()):
                if dependent in result:
                    continue
                candidate = result[target]
                if dependent not in best or candidate < best[dependent][1:]:
                    best[dependent] = [dependent, *candidate]
        frontier = sorted(best)
        result.update((name, best[name]) for name in frontier)
    return result


def describe_path(path: list[str], severities: Mapping[str, str]) -> str:
    """A reason fragment for a blast-radius path, e.g.
    ``payments-api → depends on payment-processor (critical)``.

    Services with a known severity carry it in brackets, so the engineer sees how bad the
    degradation at the end of the chain is without opening the incident.
    """
    if not path:
        raise ValueError("a blast-radius path has at least one service")
    parts = [f"{name} ({severities[name]})" if name in severities else name for name in path]
    return " → depends on ".join(parts)


def match_path(catalog: Catalog, repo: str | None, path: str) -> list[tuple[str, str]]:
    """The services a file belongs to, as ``(service, glob that matched)``, sorted by service.

    ``path`` is relative to the repo root; ``./`` and backslashes are normalised, and a path that
    escapes the root through ``..`` matches nothing (it is not in this repo). A file can belong
    to several services (shared libraries): all are returned, each with its first matching glob,
    because an agent editing shared code affects every one of them. See :func:`repo_matches`
    for how ``repo`` is compared; ``None`` (repo unknown) lets explicit globs decide alone, so a
    service that owns a whole repo (no ``paths``) is then not matched.
    """
    segments = _path_segments(path)
    if not segments:
        return []
    return catalog._index.get(catalog.services).for_repo(repo).match(segments)


def services_for_repo(catalog: Catalog, repo: str | None) -> list[str]:
    """Services that explicitly live in ``repo``, sorted: for sessions with no touched files yet.

    Unlike :func:`match_path`, a repo-less service is not included and an unknown repo matches
    nothing: with no file as evidence, only an explicit repo claim says a session is in a service.
    """
    if repo is None:
        return []
    return sorted(
        s.name
        for s in catalog.services.values()
        if any(repo_matches(declared, repo) for declared in s.repos())
    )


def repo_matches(declared: str | None, actual: str | None) -> bool:
    """Whether a catalog repo and a session's repo are the same repository.

    Case-insensitive, ignoring a ``.git`` suffix, and true when one's path segments end the
    other's: ``payments-api`` matches ``acme-payments/payments-api`` (a session often knows only
    its checkout directory name), and ``acme/checkout`` matches
    ``git@github.com:acme/checkout.git``; ``acme/checkout`` and ``other/checkout`` differ.
    ``None`` on either side matches anything.
    """
    if declared is None or actual is None:
        return True
    a, b = _repo_segments(declared), _repo_segments(actual)
    shorter, longer = sorted((a, b), key=len)
    return bool(shorter) and longer[len(longer) - len(shorter) :] == shorter


def glob_matches(glob: str, path: str) -> bool:
    """Whether one catalog glob matches a repo-relative path (as :func:`match_path` decides)."""
    segments = _path_segments(path)
    regex = _compile_glob(normalize_glob(glob))[0]
    return bool(segments) and regex.fullmatch("/".join(segments)) is not None


def normalize_glob(pattern: str) -> str:
    """Canonical spelling of a catalog glob; raises ``ValueError`` for one that can never work.

    Backslashes become ``/``, ``./`` and leading ``/`` go (globs are relative to the root
    anyway), and a trailing ``/`` is kept because it means "directory".
    """
    text = pattern.strip().replace("\\", "/")
    trailing = text.endswith("/")
    segments = [s for s in text.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise ValueError(f"path glob {pattern!r} must not contain '..'")
    if not segments:
        raise ValueError(f"path glob {pattern!r} is empty")
    # Consecutive ``**`` mean the same as one; collapsing them keeps "zero directories" true.
    segments = [
        s for i, s in enumerate(segments) if not (s == "**" and i > 0 and segments[i - 1] == "**")
    ]
    return "/".join(segments) + ("/" if trailing and segments[-1] != "**" else "")


def _compile_glob(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A regex for a normalised glob, and its leading wildcard-free segments.

    A path can only match if it starts with those segments, which lets :class:`_GlobTree` skip
    most globs of a large monorepo catalog without running their regex.
    """
    segments = pattern.rstrip("/").split("/")
    if pattern.endswith("/"):
        segments.append("**")
    out: list[str] = []
    need_sep = False
    for i, segment in enumerate(segments):
        if segment == "**":
            if i == len(segments) - 1:
                out.append("(?:/.*)?" if need_sep else ".*")
            else:
                out.append("/(?:.*/)?" if need_sep else "(?:.*/)?")
                need_sep = False
            continue
        if need_sep:
            out.append("/")
        out.append(_segment_regex(segment))
        need_sep = True
    prefix: list[str] = []
    for segment in segments:
        if "*" in segment or "?" in segment:
            break
        prefix.append(segment)
    return re.compile("".join(out), re.DOTALL), tuple(prefix)


def _segment_regex(segment: str) -> str:
    # A run of stars inside a segment (``a**b``) is just ``*``, as in gitignore.
    parts = re.split(r"(\*+|\?)", segment)
    return "".join(
        "[^/]*" if p.startswith("*") else "[^/]" if p == "?" else re.escape(p) for p in parts
    )


def _path_segments(path: str) -> list[str]:
    """The segments of a repo-relative path, resolving ``.`` and ``..``; ``[]`` if it escapes."""
    out: list[str] = []
    for segment in path.strip().replace("\\", "/").split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not out:
                return []
            out.pop()
        else:
            out.append(segment)
    return out


def _repo_segments(repo: str) -> list[str]:
    text = repo.strip().lower().replace("\\", "/").removesuffix("/").removesuffix(".git")
    return [s for s in re.split(r"[/:]", text) if s]


# The index's parts are plain slotted classes, not dataclasses: nothing compares or prints
# them, and every command that writes to the journal imports this module.


class _Glob:
    __slots__ = ("service", "pattern", "order", "regex", "prefix")

    def __init__(
        self,
        service: str,
        pattern: str,
        order: int,
        regex: re.Pattern[str],
        prefix: tuple[str, ...],
    ) -> None:
        self.service, self.pattern, self.order = service, pattern, order
        self.regex, self.prefix = regex, prefix


class _GlobTree:
    """The globs of the services in one repo, filed under their literal prefix segments."""

    __slots__ = ("globs", "children")

    def __init__(self) -> None:
        self.globs: list[_Glob] = []
        self.children: dict[str, _GlobTree] = {}

    def add(self, glob: _Glob) -> None:
        node = self
        for segment in glob.prefix:
            node = node.children.setdefault(segment, _GlobTree())
        node.globs.append(glob)

    def match(self, segments: list[str]) -> list[tuple[str, str]]:
        candidates = list(self.globs)
        node = self
        for segment in segments:
            child = node.children.get(segment)
            if child is None:
                break
            node = child
            candidates += node.globs
        joined = "/".join(segments)
        found: dict[str, _Glob] = {}
        for glob in candidates:
            seen = found.get(glob.service)
            if (seen is None or glob.order < seen.order) and glob.regex.fullmatch(joined):
                found[glob.service] = glob
        return [(name, found[name].pattern) for name in sorted(found)]


class _CompiledRule:
    __slots__ = ("pattern", "owned", "regex")

    def __init__(self, pattern: str, owned: bool, regex: re.Pattern[str]) -> None:
        self.pattern, self.owned, self.regex = pattern, owned, regex


class _RepoView:
    """What decides ownership in one repo: a tree of plain globs, and the ordered rule sets."""

    __slots__ = ("tree", "rule_sets")

    def __init__(self) -> None:
        self.tree = _GlobTree()
        self.rule_sets: list[tuple[str, list[_CompiledRule]]] = []

    def match(self, segments: list[str]) -> list[tuple[str, str]]:
        found = dict(self.tree.match(segments))
        joined = "/".join(segments)
        seen: dict[str, bool] = {}  # the same rule is repeated in every service it concerns

        def matches(rule: _CompiledRule) -> bool:
            hit = seen.get(rule.pattern)
            if hit is None:
                hit = seen[rule.pattern] = rule.regex.fullmatch(joined) is not None
            return hit

        for service, rules in self.rule_sets:
            if service in found:
                continue
            last = next((rule for rule in reversed(rules) if matches(rule)), None)
            if last is not None and last.owned:
                found[service] = last.pattern
        return [(name, found[name]) for name in sorted(found)]


class _PathIndex:
    """Every glob of a catalog compiled once, with a per-repo view built on first use."""

    def __init__(self, services: Mapping[str, Service]) -> None:
        self._services = services
        self._globs: list[tuple[Service, list[_Glob]]] = []
        compiled: dict[str, re.Pattern[str]] = {}
        self._rule_sets: list[tuple[str, str | None, list[_CompiledRule]]] = []
        for service in services.values():
            patterns = service.paths or ([WHOLE_REPO] if service.owns_whole_repo() else [])
            globs = [_Glob(service.name, p, i, *_compile_glob(p)) for i, p in enumerate(patterns)]
            self._globs.append((service, globs))
            for rule_set in service.path_rules:
                rules = []
                for rule in rule_set.rules:
                    if rule.glob not in compiled:
                        compiled[rule.glob] = _compile_glob(rule.glob)[0]
                    rules.append(_CompiledRule(rule.glob, rule.owned, compiled[rule.glob]))
                self._rule_sets.append((service.name, rule_set.repo, rules))
        self._repos: dict[str | None, _RepoView] = {}

    def serves(self, services: Mapping[str, Service]) -> bool:
        return services is self._services

    def for_repo(self, repo: str | None) -> _RepoView:
        view = self._repos.get(repo)
        if view is None:
            view = _RepoView()
            for service, globs in self._globs:
                # Owning "the whole repo" says nothing about a file whose repo is unknown.
                if not repo_matches(service.repo, repo) or (repo is None and not service.paths):
                    continue
                for glob in globs:
                    view.tree.add(glob)
            view.rule_sets = [
                (name, rules)
                for name, rs_repo, rules in self._rule_sets
                if repo_matches(rs_repo, repo)
            ]
            self._repos[repo] = view
        return view


class _IndexSlot:
    """Holds a catalog's compiled path index, built lazily and rebuilt if ``services`` changed.

    It compares equal to any other slot: a cache must never make two equal catalogs differ
    (pydantic includes private attributes in ``==``).
    """

    def __init__(self) -> None:
        self._index: _PathIndex | None = None

    def get(self, services: Mapping[str, Service]) -> _PathIndex:
        if self._index is None or not self._index.serves(services):
            self._index = _PathIndex(services)
        return self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _IndexSlot)

    __hash__ = None  # type: ignore[assignment]
