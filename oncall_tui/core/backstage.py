"""Where a Backstage component's code lives, read from the annotations teams already write.

Backstage has no field for "these paths of this repository are this component", but its
well-known annotations say most of it
(https://backstage.io/docs/features/software-catalog/well-known-annotations):

- ``backstage.io/source-location``, a location reference ``url:<URL>`` (or ``dir:<path>``) to the
  component's source, gives the repository and a glob for the directory it points at
  (``PATH/**``; the repository root gives ``**``, the whole repo);
- ``github.com/project-slug`` (``ORG/REPO``) gives the repository;
- ``backstage.io/managed-by-location``, which the catalog adds as it reads a file
  (``url:.../blob/REF/path/catalog-info.yaml``), is the fallback: a component whose
  ``catalog-info.yaml`` sits in a subdirectory of a monorepo lives in that directory.

Our own ``oncall-tui/paths`` annotation, when present, wins for the paths; ``github.com/project-slug``
wins for the repo, and a source location in another repository then gives no paths.

URLs are read host-agnostically, by the shapes the three big hosts use for "a directory at a
ref": GitHub's ``/ORG/REPO/tree/REF/PATH`` (and ``/blob/``), GitLab's
``/GROUP/.../REPO/-/tree/REF/PATH``, Bitbucket Cloud's ``/ORG/REPO/src/REF/PATH`` and Bitbucket
Server's ``/projects/KEY/repos/REPO/browse/PATH``. A ref is taken to be one path segment (a
branch named ``release/1.2`` cannot be told apart from a directory). The repository is reported as
its last two segments, ``ORG/REPO``, the form a session reports from its git remote. Credentials
in a URL are dropped before anything is read from it. A URL of another shape gives nothing, and
the next annotation is tried: an unknown host is not a mistake in the catalog.

Components found by directory nest as code does (:func:`nest_locations`): in a monorepo whose
``services/payments/`` is one component and ``services/payments/processor/`` another, the deeper
directory is the inner component's alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from oncall_tui.core.codeowners import ordered_rules
from oncall_tui.core.topology import WHOLE_REPO, PathRuleSet, Service, normalize_glob, repo_matches
from oncall_tui.core.urls import without_userinfo

SOURCE_LOCATION = "backstage.io/source-location"
MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
PROJECT_SLUG = "github.com/project-slug"

_TREE_MARKERS = ("tree", "blob", "src")


@dataclass(frozen=True)
class Annotation:
    """An annotation's value and the 1-based line it is written on."""

    value: str
    line: int


@dataclass(frozen=True)
class RepoPlace:
    """A repository and, when the reference names one, a path inside it (``""``: the root)."""

    repo: str | None
    """``ORG/REPO``; ``None`` when the reference is relative and its repository unknown."""
    path: str | None


@dataclass(frozen=True)
class ComponentPlace:
    """Where a component lives: its repository, its globs, and why each glob is there."""

    repo: str | None
    paths: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)


def component_place(
    annotations: Mapping[str, Annotation], own_paths: list[str], filename: str
) -> ComponentPlace:
    """The repository and globs of a component from its annotations (see the module docstring).

    ``own_paths`` are the globs of our own annotation, already checked. Globs derived from a
    standard annotation carry their origin (file, line, annotation); our own need none.
    """

    def origin(name: str) -> str:
        return f"{filename}:{annotations[name].line} {name}"

    slug = annotations.get(PROJECT_SLUG)
    repo = slug.value.strip() if slug is not None else None
    managed = _location(annotations.get(MANAGED_BY_LOCATION), None)
    source = _location(annotations.get(SOURCE_LOCATION), managed)
    for place in (source, managed):
        if repo is None and place is not None:
            repo = place.repo
    if own_paths:
        # Written out as globs, they explain themselves, as the paths of our own format do.
        return ComponentPlace(repo, own_paths)
    candidates = [(SOURCE_LOCATION, source), (MANAGED_BY_LOCATION, _directory_of(managed))]
    for name, place in candidates:
        if place is None or place.path is None or not repo_matches(place.repo, repo):
            continue
        glob = _directory_glob(place.path)
        if glob is not None:
            return ComponentPlace(repo, [glob], {glob: origin(name)})
    return ComponentPlace(repo)


def location_ref(value: str) -> tuple[str, str]:
    """``(type, target)`` of a location reference ``<type>:<target>``; a bare URL is ``url``.

    The target may itself contain colons (``url:https://...``), so only the first one splits.
    """
    text = value.strip()
    if text.lower().startswith(("http://", "https://")):
        return "url", text
    kind, _, target = text.partition(":")
    return kind.strip().lower(), target.strip()


def repo_place(url: str) -> RepoPlace | None:
    """The repository and path a code host URL points at, or ``None`` for another shape."""
    parts = urlsplit(without_userinfo(url.strip()))
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    repo, path = _split_repo_path(segments)
    if len(repo) < 2:
        return None
    slug = "/".join(repo[-2:]).removesuffix(".git")
    return RepoPlace(slug, "/".join(path) if path is not None else None)


def _split_repo_path(segments: list[str]) -> tuple[list[str], list[str] | None]:
    """Repository segments and path segments (``None``: the URL says nothing about a path)."""
    if "-" in segments:  # GitLab: /GROUP/SUBGROUP/REPO/-/tree/REF/PATH
        dash = segments.index("-")
        rest = segments[dash + 1 :]
        return segments[:dash], rest[2:] if rest[:1] in (["tree"], ["blob"]) else None
    if len(segments) >= 4 and segments[0] == "projects" and segments[2] == "repos":
        rest = segments[4:]  # Bitbucket Server: /projects/KEY/repos/REPO/browse/PATH
        return [segments[1], segments[3]], rest[1:] if rest[:1] == ["browse"] else []
    for index in range(2, len(segments)):
        if segments[index] in _TREE_MARKERS:  # GitHub tree/blob, Bitbucket Cloud src
            return segments[:index], segments[index + 2 :]
    return segments, []


def _location(annotation: Annotation | None, base: RepoPlace | None) -> RepoPlace | None:
    """Where a location reference points; ``dir:`` targets are relative to ``base``'s directory.

    A ``dir:`` reference is relative to the file the entity was read from. Without a
    managed-by location saying where that file is, it is taken to sit at the repository root,
    where Backstage's documentation puts ``catalog-info.yaml``; the repository is then unknown
    (the project slug supplies it).
    """
    if annotation is None:
        return None
    kind, target = location_ref(annotation.value)
    if kind == "url":
        return repo_place(target)
    if kind == "dir" and not target.startswith("/"):
        directory = _directory_of(base)
        prefix = directory.path if directory is not None and directory.path else ""
        joined = f"{prefix}/{target}" if prefix else target
        return RepoPlace(base.repo if base is not None else None, joined)
    return None


def _directory_of(place: RepoPlace | None) -> RepoPlace | None:
    """The directory of the file a place points at (a catalog file): the root for a top file."""
    if place is None or place.path is None:
        return place
    return RepoPlace(place.repo, place.path.rpartition("/")[0])


def _directory_glob(path: str) -> str | None:
    """``PATH/**`` for a directory, ``**`` for the root, ``None`` for a path that escapes it."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if not segments:
                return None
            segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return normalize_glob("/".join([*segments, WHOLE_REPO]))


LOCATIONS_SOURCE = "Backstage locations"


def nest_locations(services: Mapping[str, Service]) -> dict[str, Service]:
    """Services whose directory globs nest, turned into ordered rules where the deepest wins.

    Only globs derived from a location annotation take part (they carry an origin): globs
    written out (our own ``paths``) are left as given, since an overlap there is a shared library
    meant to belong to every service listing it. Components in the same directory share it.
    """
    groups: dict[str, list[Service]] = {}
    for service in services.values():
        if service.repo is not None and len(service.paths) == 1 and service.path_origins:
            groups.setdefault(service.repo.lower(), []).append(service)
    nested = dict(services)
    for members in groups.values():
        owners: dict[str, list[Service]] = {}
        for service in members:
            owners.setdefault(service.paths[0], []).append(service)
        directories = sorted(owners, key=lambda glob: (len(_directory(glob)), glob))
        if not any(_inside(a, b) for a in directories for b in directories if a != b):
            continue
        rules = [(glob, owners[glob][0].path_origins[glob]) for glob in directories]
        owned_by = [[s.name for s in owners[glob]] for glob in directories]
        for service in members:
            rule_set = PathRuleSet(
                repo=service.repo,
                source=LOCATIONS_SOURCE,
                rules=ordered_rules(service.name, rules, owned_by),
            )
            update = {"paths": [], "path_origins": {}, "path_rules": [rule_set]}
            nested[service.name] = service.model_copy(update=update)
    return nested


def _directory(glob: str) -> list[str]:
    return [s for s in glob.removesuffix(WHOLE_REPO).split("/") if s]


def _inside(outer: str, inner: str) -> bool:
    a, b = _directory(outer), _directory(inner)
    return len(a) < len(b) and b[: len(a)] == a
