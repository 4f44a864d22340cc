"""Reading service catalogs: our own YAML format and Backstage ``catalog-info.yaml``.

Text in, :class:`~oncall_tui.core.topology.Catalog` out; the caller reads the files. A catalog
decides which agents hear about an incident, so a mistake in it must be loud: every problem raises
:class:`CatalogError` naming the file, the 1-based line and the problem, and unknown keys are
errors (a typo such as ``depend_on`` would otherwise silently drop an edge). Files are read with
yaml's compose API, which keeps every node's position and sees duplicate keys that ``safe_load``
would silently collapse.

Our format is one document with a ``services`` mapping; each service may have ``repo``,
``paths``, ``owners``, ``runbooks`` (URLs, or ``{url, title}``), ``depends_on`` (service names)
and ``description``.

A Backstage file is one or more entity documents. Only ``kind: Component`` entities become
services (Systems, Resources, APIs, Groups... are skipped); for them:

- ``metadata.name`` is the service name; ``metadata.description`` its description;
- ``spec.owner`` gives the owner, ``spec.dependsOn`` the dependencies and ``spec.dependencyOf``
  the reverse edges; refs are ``[kind:][namespace/]name``, the name alone is kept, names compare
  case-insensitively as in Backstage, and ``resource:`` refs are skipped (not services);
- the repo and path globs come from Backstage's well-known annotations
  (``backstage.io/source-location``, ``github.com/project-slug``,
  ``backstage.io/managed-by-location``, see :mod:`oncall_tui.core.backstage`), or from our own
  ``oncall-tui/paths`` annotation, which wins: comma-separated globs
  (``"services/payments/**, libs/payments-client/**"``) for when the source location is too coarse;
- ``metadata.links`` whose title or type mentions "runbook" become runbooks.

``kind: Location`` entities name other catalog files (``spec.target``, ``spec.targets``);
:func:`location_targets` lists them for the caller to read, since reading files is not done here.

A catalog is bounded before it can cost much: at most :data:`MAX_CATALOG_BYTES` (UTF-8), and
composed by :mod:`~oncall_tui.core.bounded_yaml` (64 levels of nesting, 500,000 nodes, an alias
counted as all it stands for). Real catalogs stay far below (a service takes about 15 nodes at
depth 4); a file beyond them is hostile or a mistake, and would otherwise crash the loader
(10,000 levels of nesting exhaust Python's recursion), expand an alias bomb, or parse for
minutes.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from oncall_tui.core.backstage import (
    MANAGED_BY_LOCATION,
    PROJECT_SLUG,
    SOURCE_LOCATION,
    Annotation,
    component_place,
    nest_locations,
)
from oncall_tui.core.bounded_yaml import LimitExceededError, compose_bounded
from oncall_tui.core.models import Link
from oncall_tui.core.topology import Catalog, Service, normalize_glob

MAX_CATALOG_BYTES = 4 * 1024 * 1024
"""About 30,000 services in our format or 7,000 Backstage components: seconds to parse."""
REPO_ANNOTATION = PROJECT_SLUG
PATHS_ANNOTATION = "oncall-tui/paths"
_PLACE_ANNOTATIONS = (PROJECT_SLUG, SOURCE_LOCATION, MANAGED_BY_LOCATION)

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"

_SERVICE_KEYS = ("repo", "paths", "owners", "runbooks", "depends_on", "description")
_RUNBOOK_KEYS = ("url", "title")
_ENTITY_KEYS = ("apiVersion", "kind", "metadata", "spec", "relations", "status")
_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
_METADATA_KEYS = (
    *("name", "namespace", "title", "description", "labels", "annotations", "tags", "links"),
    *("uid", "etag"),
)
_LINK_KEYS = ("url", "title", "icon", "type")
_COMPONENT_SPEC_KEYS = (
    *("type", "lifecycle", "owner", "system", "subcomponentOf", "providesApis", "consumesApis"),
    *("dependsOn", "dependencyOf"),
)


class CatalogError(ValueError):
    """A catalog file that cannot be used, as ``file:line: problem`` (what editors jump to)."""

    def __init__(self, filename: str, line: int, problem: str) -> None:
        super().__init__(f"{filename}:{line}: {problem}")
        self.filename = filename
        self.line = line
        self.problem = problem


def parse_catalog(text: str, filename: str) -> Catalog:
    """Parse one catalog file in either format (Backstage when it has ``apiVersion``/``kind``)."""
    return parse_catalogs([(filename, text)])


def parse_catalogs(files: Iterable[tuple[str, str]]) -> Catalog:
    """Parse several ``(filename, text)`` files into one catalog.

    Backstage catalogs are usually one ``catalog-info.yaml`` per repository, with ``dependsOn``
    pointing across files, so dependencies are checked only once every file is read.
    """
    declared: dict[str, _Declared] = {}
    filenames: list[str] = []
    for filename, text in files:
        filenames.append(filename)
        check_size(len(text.encode("utf-8", "surrogatepass")), filename)
        for service in _read_file(text, filename):
            first = declared.get(service.name)
            if first is not None:
                same = first.filename == filename
                where = f"line {first.line}" if same else f"{first.filename}:{first.line}"
                problem = f"duplicate service {service.name!r} (first defined at {where})"
                raise CatalogError(filename, service.line, problem)
            declared[service.name] = service
    return _link(declared, ", ".join(filenames))


@dataclass(frozen=True)
class LocationTarget:
    """A catalog file a Backstage ``kind: Location`` names, as written, with where it is named."""

    target: str
    type: str
    """``spec.type`` (``url`` or ``file``; empty when absent)."""
    filename: str
    line: int


_LOCATION_SPEC_KEYS = ("type", "target", "targets", "presence")


def location_targets(text: str, filename: str) -> list[LocationTarget]:
    """Every ``spec.target`` and ``spec.targets`` entry of the ``kind: Location`` entities.

    Files of our own format have none. Errors are raised as by :func:`parse_catalog`.
    """
    src = _Source(filename)
    docs = _read_docs(text, filename)
    if not docs or not _is_backstage(docs[0]):
        return []
    found: list[LocationTarget] = []
    for doc in docs:
        entity = src.mapping(doc, "a Backstage entity")
        if "kind" not in entity or "spec" not in entity:
            continue
        if src.string(entity["kind"][1], "'kind'").lower() != "location":
            continue
        spec = src.fields(entity["spec"][1], "a Location's 'spec'", _LOCATION_SPEC_KEYS)
        kind = src.text(spec, "type", "a Location: ") or ""
        named = src.items(spec, "targets", "a Location: ")
        if "target" in spec and not _is_null(spec["target"]):
            named.insert(0, (src.string(spec["target"], "a Location's 'target'"), spec["target"]))
        found += [LocationTarget(value, kind, filename, _line(node)) for value, node in named]
    return found


@dataclass(frozen=True)
class _Ref:
    """A dependency as written, kept with its position until every service is known."""

    target: str
    filename: str
    line: int
    fold_case: bool


@dataclass(frozen=True)
class _Declared:
    """A service as read from one file; its ``depends_on`` is filled in by :func:`_link`."""

    service: Service
    filename: str
    line: int
    depends_on: list[_Ref]
    dependency_of: list[_Ref] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.service.name


def _link(declared: dict[str, _Declared], source: str) -> Catalog:
    """Resolve dependency refs to service names, with the line of the first bad one."""
    folded = {name.lower(): name for name in declared}
    edges: dict[str, list[str]] = {name: [] for name in declared}

    def resolve(owner: _Declared, ref: _Ref, relation: str) -> str:
        name = folded.get(ref.target.lower()) if ref.fold_case else ref.target
        if name not in declared:
            hint = _did_you_mean(ref.target, declared)
            problem = f"service {owner.name!r} {relation} unknown service {ref.target!r}{hint}"
            raise CatalogError(ref.filename, ref.line, problem)
        if name == owner.name:
            raise CatalogError(ref.filename, ref.line, f"service {owner.name!r} {relation} itself")
        return name

    def add(service: str, dep: str) -> None:
        if dep not in edges[service]:
            edges[service].append(dep)

    for service in declared.values():
        for ref in service.depends_on:
            add(service.name, resolve(service, ref, "depends on"))
        for ref in service.dependency_of:
            add(resolve(service, ref, "is a dependency of"), service.name)
    services = {
        name: d.service.model_copy(update={"depends_on": edges[name]})
        for name, d in declared.items()
    }
    return Catalog(services=nest_locations(services), source=source)


def check_size(size: int, filename: str) -> None:
    """Refuse a catalog of ``size`` bytes over :data:`MAX_CATALOG_BYTES`."""
    if size > MAX_CATALOG_BYTES:
        limit = MAX_CATALOG_BYTES // (1024 * 1024)
        problem = f"catalog too large: over {limit} MiB, the most a catalog may be"
        raise CatalogError(filename, 1, problem)


def _compose(text: str, filename: str) -> list[Node]:
    try:
        return compose_bounded(text)
    except LimitExceededError as exc:
        raise CatalogError(filename, exc.line, exc.problem) from None


def _read_docs(text: str, filename: str) -> list[Node]:
    try:
        return _compose(text, filename)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, filename) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise CatalogError(filename, line, f"unreadable YAML: {exc.reason}") from exc


def _is_backstage(first: Node) -> bool:
    return isinstance(first, MappingNode) and any(
        k.value in ("apiVersion", "kind") for k, _ in first.value
    )


def _read_file(text: str, filename: str) -> list[_Declared]:
    src = _Source(filename)
    docs = _read_docs(text, filename)
    if not docs:
        problem = "no catalog here: expected a 'services' mapping or Backstage entities"
        raise CatalogError(filename, 1, problem)
    first = docs[0]
    if _is_backstage(first):
        return _read_backstage(src, docs)
    if len(docs) > 1:
        problem = "a 'services' catalog is a single YAML document (or use Backstage entities)"
        raise src.error(docs[1], problem)
    return _read_own(src, first)


def _syntax_error(exc: yaml.MarkedYAMLError, filename: str) -> CatalogError:
    """Report where yaml gave up, and where the construct it was reading began."""
    problem, context = exc.problem_mark, exc.context_mark
    mark = problem or context
    text = f"YAML syntax error: {exc.problem or exc.context}"
    if problem is not None and context is not None and context.line != problem.line:
        text += f" ({exc.context} on line {context.line + 1})"
    return CatalogError(filename, mark.line + 1 if mark is not None else 1, text)


def _read_own(src: _Source, root: Node) -> list[_Declared]:
    top = src.fields(root, "the catalog", ("services",))
    if "services" not in top:
        raise src.error(root, "missing 'services'")
    out: list[_Declared] = []
    for name, (key, body) in src.mapping(top["services"], "'services'", item="service").items():
        fields = src.fields(body, f"service {name!r}", _SERVICE_KEYS)
        what = f"service {name!r}: "
        service = Service(
            name=src.string(key, "a service name"),
            repo=src.text(fields, "repo", what),
            paths=[src.glob(v, n, what) for v, n in src.items(fields, "paths", what)],
            owners=[v for v, _ in src.items(fields, "owners", what)],
            runbooks=_own_runbooks(src, fields.get("runbooks"), f"{what}'runbooks'"),
            description=src.text(fields, "description", what) or "",
        )
        deps = src.items(fields, "depends_on", what)
        refs = [_Ref(v, src.filename, _line(n), False) for v, n in deps]
        out.append(_Declared(service, src.filename, _line(key), refs))
    return out


def _own_runbooks(src: _Source, node: Node | None, what: str) -> list[Link]:
    if node is None or _is_null(node):
        return []
    if not isinstance(node, SequenceNode):
        raise src.error(node, f"{what} must be a list of URLs or {{url, title}} mappings")
    links: list[Link] = []
    for item in node.value:
        if isinstance(item, MappingNode):
            fields = src.fields(item, what, _RUNBOOK_KEYS)
            url = src.string(src.required(fields, "url", item, what), f"{what} 'url'")
            links.append(Link(href=url, text=src.text(fields, "title", f"{what} ") or ""))
        else:
            links.append(Link(href=src.string(item, f"{what} entries")))
    return links


def _read_backstage(src: _Source, docs: list[Node]) -> list[_Declared]:
    out: list[_Declared] = []
    for doc in docs:
        entity = src.mapping(doc, "a Backstage entity")
        if "kind" not in entity:
            raise src.error(doc, "Backstage entity without 'kind'")
        if src.string(entity["kind"][1], "'kind'").lower() == "component":
            out.append(_read_component(src, doc))
    return out


def _read_component(src: _Source, doc: Node) -> _Declared:
    top = src.fields(doc, "a Component entity", _ENTITY_KEYS)
    api = src.string(src.required(top, "apiVersion", doc, "a Component entity"), "'apiVersion'")
    if api not in _API_VERSIONS:
        raise src.error(top["apiVersion"], f"unsupported apiVersion {api!r} for a Component")
    meta_node = src.required(top, "metadata", doc, "a Component entity")
    meta = src.fields(meta_node, "'metadata'", _METADATA_KEYS)
    name_node = src.required(meta, "name", meta_node, "'metadata'")
    name = src.string(name_node, "'metadata.name'")
    what = f"component {name!r}: "
    entries = src.mapping(meta.get("annotations"), f"{what}'annotations'")
    annotations = {key: value for key, (_, value) in entries.items()}
    globs = (src.text(annotations, PATHS_ANNOTATION, what) or "").split(",")
    own_paths = [
        src.glob(g.strip(), annotations[PATHS_ANNOTATION], what) for g in globs if g.strip()
    ]
    place = component_place(
        {
            key: Annotation(text, _line(annotations[key]))
            for key in _PLACE_ANNOTATIONS
            if (text := src.text(annotations, key, what)) is not None
        },
        own_paths,
        src.filename,
    )
    spec = src.fields(top.get("spec"), f"{what}'spec'", _COMPONENT_SPEC_KEYS)
    owner = src.text(spec, "owner", what)
    service = Service(
        name=name,
        repo=place.repo,
        paths=place.paths,
        path_origins=place.origins,
        owners=[_ref_name(owner)] if owner else [],
        runbooks=_backstage_runbooks(src, meta.get("links"), f"{what}'links'"),
        description=src.text(meta, "description", what) or "",
    )
    return _Declared(
        service,
        src.filename,
        _line(name_node),
        depends_on=_component_refs(src, spec, "dependsOn", what),
        dependency_of=_component_refs(src, spec, "dependencyOf", what),
    )


def _backstage_runbooks(src: _Source, node: Node | None, what: str) -> list[Link]:
    if node is None or _is_null(node):
        return []
    if not isinstance(node, SequenceNode):
        raise src.error(node, f"{what} must be a list of links")
    runbooks: list[Link] = []
    for item in node.value:
        fields = src.fields(item, f"{what} entries", _LINK_KEYS)
        url = src.string(src.required(fields, "url", item, f"{what} entries"), f"{what} 'url'")
        title = src.text(fields, "title", f"{what} ") or ""
        kind = src.text(fields, "type", f"{what} ") or ""
        if "runbook" in f"{title} {kind}".lower():
            runbooks.append(Link(href=url, text=title))
    return runbooks


def _component_refs(src: _Source, spec: dict[str, Node], key: str, what: str) -> list[_Ref]:
    """Component refs from a ``dependsOn``-like list; resources are not services, so skipped."""
    refs: list[_Ref] = []
    for value, item in src.items(spec, key, what):
        kind = value.partition(":")[0].lower() if ":" in value else "component"
        if kind == "component":
            refs.append(_Ref(_ref_name(value), src.filename, _line(item), True))
        elif kind != "resource":
            problem = f"{what}{key!r} entry {value!r} must be a component or resource ref"
            raise src.error(item, problem)
    return refs


def _ref_name(ref: str) -> str:
    """The name part of ``[kind:][namespace/]name``."""
    return ref.rpartition(":")[2].rpartition("/")[2]


class _Source:
    """Typed access to yaml nodes that raises :class:`CatalogError` at the offending node."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def error(self, node: Node, problem: str) -> CatalogError:
        return CatalogError(self.filename, _line(node), problem)

    def mapping(
        self, node: Node | None, what: str, item: str = "key"
    ) -> dict[str, tuple[Node, Node]]:
        """String-keyed entries in order, rejecting duplicates (which yaml would keep silently).

        Absent and null are empty: ``spec:`` with nothing under it means nothing to say.
        """
        if node is None or _is_null(node):
            return {}
        if not isinstance(node, MappingNode):
            raise self.error(node, f"{what} must be a mapping")
        entries: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if key.tag == _MERGE_TAG:
                raise self.error(key, f"YAML merge keys ('<<') are not supported in {what}")
            if not _is_str(key):
                raise self.error(key, f"keys of {what} must be strings")
            if key.value in entries:
                first = _line(entries[key.value][0])
                raise self.error(
                    key, f"duplicate {item} {key.value!r} (first defined at line {first})"
                )
            entries[key.value] = (key, value)
        return entries

    def fields(self, node: Node | None, what: str, allowed: Collection[str]) -> dict[str, Node]:
        """A mapping's values by key, where every key must be one of ``allowed``."""
        entries = self.mapping(node, what)
        for name, (key, _) in entries.items():
            if name not in allowed:
                raise self.error(
                    key, f"unknown key {name!r} in {what}{_did_you_mean(name, allowed)}"
                )
        return {name: value for name, (_, value) in entries.items()}

    def required(self, fields: dict[str, Node], key: str, parent: Node, what: str) -> Node:
        if key not in fields:
            raise self.error(parent, f"{what} is missing {key!r}")
        return fields[key]

    def string(self, node: Node, what: str) -> str:
        if not _is_str(node) or not node.value.strip():
            raise self.error(node, f"{what} must be a non-empty string")
        return str(node.value)

    def text(self, fields: dict[str, Node], key: str, what: str) -> str | None:
        """The string at ``key`` of a mapping, ``None`` when absent or null."""
        node = fields.get(key)
        return None if node is None or _is_null(node) else self.string(node, f"{what}{key!r}")

    def items(self, fields: dict[str, Node], key: str, what: str) -> list[tuple[str, Node]]:
        """The non-empty strings listed at ``key``, each with its node (for its line).

        Absent and null are empty lists.
        """
        node = fields.get(key)
        if node is None or _is_null(node):
            return []
        problem = f"{what}{key!r} must be a list of strings"
        if not isinstance(node, SequenceNode):
            raise self.error(node, problem)
        for item in node.value:
            if not _is_str(item) or not item.value.strip():
                raise self.error(item, problem)
        return [(str(item.value), item) for item in node.value]

    def glob(self, pattern: str, node: Node, what: str) -> str:
        try:
            return normalize_glob(pattern)
        except ValueError as exc:
            raise self.error(node, f"{what}{exc}") from exc


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _STR_TAG


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
