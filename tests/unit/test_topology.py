"""Service catalog parsing, blast radius and path matching."""

from __future__ import annotations

from collections import deque
from fnmatch import fnmatchcase
from textwrap import dedent

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from oncall_tui.core.catalog_yaml import CatalogError, parse_catalog, parse_catalogs
from oncall_tui.core.models import Link, Severity
from oncall_tui.core.topology import (
    Catalog,
    Service,
    blast_radius,
    describe_path,
    match_path,
    normalize_glob,
    repo_matches,
    services_for_repo,
)
from tests.support.samples import SAMPLES


def catalog(*services: Service) -> Catalog:
    return Catalog(services={s.name: s for s in services}, source="test")


def chain(**depends_on: list[str]) -> Catalog:
    return catalog(*(Service(name=n, depends_on=d) for n, d in depends_on.items()))


@pytest.fixture(scope="module")
def own() -> Catalog:
    return parse_catalog((SAMPLES / "catalog.yaml").read_text(), "catalog.yaml")


@pytest.fixture(scope="module")
def backstage() -> Catalog:
    path = SAMPLES / "backstage" / "catalog-info.yaml"
    return parse_catalog(path.read_text(), "catalog-info.yaml")


# --- parsing the samples ---------------------------------------------------------------------


def test_both_sample_formats_describe_the_same_services(own: Catalog, backstage: Catalog) -> None:
    assert own.services == backstage.services
    assert own.source == "catalog.yaml"
    assert backstage.source == "catalog-info.yaml"


def test_own_sample_fields(own: Catalog) -> None:
    api = own.services["payments-api"]
    assert api.repo == "acme-payments/payments-api"
    assert api.paths == ["services/payments/**", "libs/payments-client/**", "deploy/payments-api/"]
    assert api.owners == ["team-payments"]
    assert api.depends_on == ["payment-processor"]
    assert api.runbooks == [
        Link(href="https://runbooks.example.com/payments/api", text="Payments API runbook")
    ]
    assert own.services["search"].paths == []


def test_backstage_keeps_components_only_and_strips_refs(backstage: Catalog) -> None:
    assert sorted(backstage.services) == [
        "checkout",
        "ledger",
        "notifications",
        "payment-processor",
        "payments-api",
        "search",
    ]
    processor = backstage.services["payment-processor"]
    assert processor.owners == ["team-payments"]  # from group:default/team-payments
    assert processor.depends_on == []  # resource:default/payments-db is not a service
    assert [r.text for r in processor.runbooks] == ["Payment processor runbook"]  # not dashboards


def test_sample_blast_radius(own: Catalog) -> None:
    radius = blast_radius(own, ["payment-processor"])
    assert radius == {
        "payment-processor": ["payment-processor"],
        "ledger": ["ledger", "payment-processor"],
        "payments-api": ["payments-api", "payment-processor"],
        "checkout": ["checkout", "payments-api", "payment-processor"],
        "notifications": ["notifications", "checkout", "payments-api", "payment-processor"],
    }
    assert list(radius) == [
        "payment-processor",
        "ledger",
        "payments-api",
        "checkout",
        "notifications",
    ]


def test_backstage_dependency_of_and_case_insensitive_refs() -> None:
    text = dedent(
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: Core
        spec:
          dependencyOf: [component:default/edge]
        ---
        apiVersion: backstage.io/v1beta1
        kind: component
        metadata:
          name: edge
          links:
            - url: https://wiki.example.com/edge
              title: On-call guide
              type: runbook
        spec:
          owner: user:jdoe
          dependsOn: [CORE]
        """
    )
    result = parse_catalog(text, "catalog-info.yaml")
    assert result.services["edge"].depends_on == ["Core"]
    assert result.services["edge"].owners == ["jdoe"]
    assert result.services["edge"].runbooks == [
        Link(href="https://wiki.example.com/edge", text="On-call guide")
    ]


def test_own_format_details() -> None:
    text = dedent(
        """\
        services:
          bare:
          api:
            paths: ["./services\\\\api/**", "/docs/"]
            runbooks: [https://runbooks.example.com/api]
            depends_on: [bare, bare]
            description: null
        """
    )
    result = parse_catalog(text, "catalog.yaml")
    assert result.services["bare"] == Service(name="bare")
    api = result.services["api"]
    assert api.paths == ["services/api/**", "docs/"]
    assert api.runbooks == [Link(href="https://runbooks.example.com/api")]
    assert api.depends_on == ["bare"]
    assert parse_catalog("services:\n", "c.yaml").services == {}


def test_several_files_link_across_files() -> None:
    first = "services:\n  checkout:\n    depends_on: [payments-api]\n"
    second = "services:\n  payments-api: {}\n"
    result = parse_catalogs([("a.yaml", first), ("b.yaml", second)])
    assert result.services["checkout"].depends_on == ["payments-api"]
    assert result.source == "a.yaml, b.yaml"
    with pytest.raises(CatalogError) as err:
        parse_catalogs([("a.yaml", second), ("b.yaml", "\n" + second)])
    assert str(err.value) == (
        "b.yaml:3: duplicate service 'payments-api' (first defined at a.yaml:2)"
    )


# --- errors name file, line and problem --------------------------------------------------------

OWN_ERRORS = [
    (
        """\
        services:
          payments-api:
            repo: acme/payments
          checkout:
            depends_on:
              - payments-api
              - paymnts-api
        """,
        7,
        "service 'checkout' depends on unknown service 'paymnts-api'"
        " (did you mean 'payments-api'?)",
    ),
    (
        """\
        services:
          checkout:
            paths: services/checkout/**
        """,
        3,
        "service 'checkout': 'paths' must be a list of strings",
    ),
    (
        """\
        services:
          checkout:
            paths:
              - services/checkout/**
              - 42
        """,
        5,
        "service 'checkout': 'paths' must be a list of strings",
    ),
    (
        """\
        services:
          checkout:
            paths: ["../elsewhere/**"]
        """,
        3,
        "service 'checkout': path glob '../elsewhere/**' must not contain '..'",
    ),
    (
        """\
        services:
          checkout: {}
          search: {}
          checkout:
            repo: acme/checkout
        """,
        4,
        "duplicate service 'checkout' (first defined at line 2)",
    ),
    (
        """\
        services:
          checkout:
            repo: acme/checkout
            depend_on: [payments-api]
        """,
        4,
        "unknown key 'depend_on' in service 'checkout' (did you mean 'depends_on'?)",
    ),
    (
        """\
        # the catalog
        service:
          checkout: {}
        """,
        2,
        "unknown key 'service' in the catalog (did you mean 'services'?)",
    ),
    (
        """\
        services:
          checkout:
            repo: acme/checkout
            repo: acme/checkout2
        """,
        4,
        "duplicate key 'repo' (first defined at line 3)",
    ),
    (
        """\
        services:
          checkout:
            depends_on: [checkout]
        """,
        3,
        "service 'checkout' depends on itself",
    ),
    (
        """\
        services:
          checkout:
            repo: 42
        """,
        3,
        "service 'checkout': 'repo' must be a non-empty string",
    ),
    (
        """\
        services:
          checkout:
            runbooks:
              - title: no url
        """,
        4,
        "service 'checkout': 'runbooks' is missing 'url'",
    ),
    (
        """\
        services:
          123:
            repo: acme/numbers
        """,
        2,
        "keys of 'services' must be strings",
    ),
    (
        """\
        services:
          checkout:
            repo: acme/checkout
            owners: [team-a, team-b
            paths: []
        """,
        5,
        "YAML syntax error: expected ',' or ']', but got ':'"
        " (while parsing a flow sequence on line 4)",
    ),
    (
        """\
        services:
          checkout:
            repo: acme/checkout
           owners: [team-a]
        """,
        4,
        "YAML syntax error: expected <block end>, but found '<block mapping start>'",
    ),
    ("services:\n  checkout:\n    repo: acme/\x00checkout\n", 3, "unreadable YAML"),
    ("# nothing yet\n", 1, "no catalog here"),
    ("services:\n  a: {}\n---\nservices: {}\n", 4, "a 'services' catalog is a single YAML"),
    ("defaults: &d\n  repo: x\nservices:\n  a:\n    <<: *d\n", 1, "unknown key 'defaults'"),
    ("services:\n  a:\n    <<: {repo: x}\n", 3, "YAML merge keys ('<<') are not supported"),
]

BACKSTAGE_ERRORS = [
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
        spec:
          owner: team-checkout
          dependsOn:
            - resource:payments-db
            - component:default/paymnts-api
        """,
        9,
        "service 'checkout' depends on unknown service 'paymnts-api'",
    ),
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
        spec:
          dependOn: [component:payments-api]
        """,
        6,
        "unknown key 'dependOn' in component 'checkout': 'spec' (did you mean 'dependsOn'?)",
    ),
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: System
        metadata:
          name: payments
        ---
        apiVersion: backstage.io/v2
        kind: Component
        metadata:
          name: checkout
        """,
        6,
        "unsupported apiVersion 'backstage.io/v2' for a Component",
    ),
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
        spec:
          dependsOn:
            - api:payments-rest
        """,
        7,
        "component 'checkout': 'dependsOn' entry 'api:payments-rest' must be a component",
    ),
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          title: Checkout
        """,
        4,
        "'metadata' is missing 'name'",
    ),
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
          annotations:
            oncall-tui/paths: web/**, ../secrets/**
        """,
        6,
        "component 'checkout': path glob '../secrets/**' must not contain '..'",
    ),
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
        """,
        9,
        "duplicate service 'checkout' (first defined at line 4)",
    ),
    (
        """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
        ---
        apiVersion: backstage.io/v1alpha1
        metadata:
          name: orphan
        """,
        6,
        "Backstage entity without 'kind'",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "problem"), [*OWN_ERRORS, *BACKSTAGE_ERRORS], ids=lambda v: str(v)[:40]
)
def test_errors_name_file_line_and_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(CatalogError) as err:
        parse_catalog(dedent(text), "catalog.yaml")
    assert err.value.filename == "catalog.yaml"
    assert err.value.line == line
    assert err.value.problem.startswith(problem)
    assert str(err.value) == f"catalog.yaml:{line}: {err.value.problem}"


def test_programmatic_catalogs_keep_the_graph_consistent() -> None:
    with pytest.raises(ValidationError, match="unknown service 'ghost'"):
        chain(a=["ghost"])
    with pytest.raises(ValidationError, match="filed under the key"):
        Catalog(services={"a": Service(name="b")})
    with pytest.raises(ValidationError, match="must not contain"):
        Service(name="a", paths=["a/../../b"])


# --- blast radius ------------------------------------------------------------------------------


def test_blast_radius_direct_transitive_and_unrelated() -> None:
    graph = chain(db=[], api=["db"], web=["api"], search=[])
    assert blast_radius(graph, ["db"]) == {
        "db": ["db"],
        "api": ["api", "db"],
        "web": ["web", "api", "db"],
    }
    assert blast_radius(graph, ["search"]) == {"search": ["search"]}
    assert blast_radius(graph, []) == {}


def test_blast_radius_cycle_terminates() -> None:
    assert blast_radius(chain(a=["b"], b=["a"]), ["a"]) == {"a": ["a"], "b": ["b", "a"]}


def test_blast_radius_diamond_takes_the_alphabetically_first_shortest_path() -> None:
    graph = chain(bottom=[], right=["bottom"], left=["bottom"], top=["right", "left"])
    assert blast_radius(graph, ["bottom"])["top"] == ["top", "left", "bottom"]


def test_blast_radius_prefers_the_shorter_path() -> None:
    graph = chain(db=[], a=["db"], b=["a"], c=["b"], web=["c", "db"])
    assert blast_radius(graph, ["db"])["web"] == ["web", "db"]


def test_blast_radius_unknown_and_several_degraded() -> None:
    graph = chain(db=[], api=["db"])
    assert blast_radius(graph, ["ghost"]) == {"ghost": ["ghost"]}
    # A degraded service is degraded itself, even when it also depends on another one.
    assert blast_radius(graph, ["api", "db", "api"]) == {"api": ["api"], "db": ["db"]}


NAMES = [f"s{i}" for i in range(7)]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[Catalog, list[str]]:
    names = NAMES[: draw(st.integers(1, len(NAMES)))]
    services = [
        Service(name=n, depends_on=draw(st.lists(st.sampled_from(names), unique=True)))
        for n in names
    ]
    degraded = draw(st.lists(st.sampled_from([*names, "ghost"]), max_size=4))
    return catalog(*services), degraded


@given(graphs())
def test_blast_radius_paths_follow_real_edges_to_degraded_services(
    case: tuple[Catalog, list[str]],
) -> None:
    graph, degraded = case
    radius = blast_radius(graph, degraded)

    # Independent reference: distances to the nearest degraded service over reversed edges.
    distance = dict.fromkeys(degraded, 0)
    queue = deque(degraded)
    while queue:
        target = queue.popleft()
        for service in graph.services.values():
            if target in service.depends_on and service.name not in distance:
                distance[service.name] = distance[target] + 1
                queue.append(service.name)

    assert set(radius) == set(distance)
    for name, path in radius.items():
        assert path[0] == name
        assert path[-1] in degraded
        assert len(path) - 1 == distance[name]
        for here, there in zip(path, path[1:], strict=False):
            assert there in graph.services[here].depends_on


# --- path matching -----------------------------------------------------------------------------

MONO = "acme/mono"
MATCHING = catalog(
    Service(name="tests", repo=MONO, paths=["src/**/test_*.py"]),
    Service(name="payments", repo=MONO, paths=["payments/*.py", "payments/**"]),
    Service(name="deploy", repo=MONO, paths=["deploy/"]),
    Service(name="config", repo=MONO, paths=["config/app?.yaml", "config/a**b.yaml"]),
    Service(name="shared-a", repo=MONO, paths=["libs/common/**"]),
    Service(name="shared-b", repo=MONO, paths=["libs/**/common/**"]),
    Service(name="tools", repo=None, paths=["tools/**"]),
    Service(name="whole", repo="acme/whole"),
    Service(name="nowhere"),
)


@pytest.mark.parametrize(
    ("repo", "path", "expected"),
    [
        # `**` spans zero or many directories.
        (MONO, "src/test_x.py", [("tests", "src/**/test_*.py")]),
        (MONO, "src/a/b/c/test_x.py", [("tests", "src/**/test_*.py")]),
        (MONO, "src/a/b/x.py", []),
        # `*` stays within one segment; the first matching glob of a service is reported.
        (MONO, "payments/client.py", [("payments", "payments/*.py")]),
        (MONO, "payments/sub/client.py", [("payments", "payments/**")]),
        (MONO, "config/a/b.yaml", []),
        (MONO, "config/axxb.yaml", [("config", "config/a**b.yaml")]),
        # `?` is one character, never `/`.
        (MONO, "config/app1.yaml", [("config", "config/app?.yaml")]),
        (MONO, "config/app12.yaml", []),
        (MONO, "config/app/.yaml", []),
        # A trailing `/` is the directory and everything under it, never a longer name.
        (MONO, "deploy/k8s/app.yaml", [("deploy", "deploy/")]),
        (MONO, "deploy", [("deploy", "deploy/")]),
        (MONO, "deployment/app.yaml", []),
        # Normalisation, and nothing outside the root.
        (MONO, "./payments\\client.py", [("payments", "payments/*.py")]),
        (MONO, "src/../payments/client.py", [("payments", "payments/*.py")]),
        (MONO, "../mono/payments/client.py", []),
        (MONO, "payments/../../payments/client.py", []),
        (MONO, "", []),
        # Repo identifiers: case, basename, URL forms; another org's repo is another repo.
        ("mono", "payments/client.py", [("payments", "payments/*.py")]),
        ("ACME/Mono", "payments/client.py", [("payments", "payments/*.py")]),
        ("git@github.com:acme/mono.git", "payments/x.py", [("payments", "payments/*.py")]),
        ("other/mono", "payments/client.py", []),
        (None, "payments/client.py", [("payments", "payments/*.py")]),
        # Repo-less services match in any repo; a repo with no paths owns the whole repo.
        ("anything", "tools/lint.sh", [("tools", "tools/**")]),
        ("acme/whole", "deep/down/file.py", [("whole", "**")]),
        # A file shared by two services belongs to both.
        (
            MONO,
            "libs/common/money.py",
            [("shared-a", "libs/common/**"), ("shared-b", "libs/**/common/**")],
        ),
    ],
)
def test_match_path(repo: str | None, path: str, expected: list[tuple[str, str]]) -> None:
    assert match_path(MATCHING, repo, path) == expected


def reference_match(pattern: list[str], path: list[str]) -> bool:
    """Segment-by-segment glob semantics, written the slow and obvious way."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(reference_match(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatchcase(path[0], head) and reference_match(rest, path[1:])


@given(
    st.lists(st.sampled_from(["a", "b", "ab", "*", "a*", "?", "?b", "**", "a**"]), min_size=1),
    st.booleans(),
    st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab"]), min_size=1, max_size=6),
)
def test_compiled_globs_agree_with_reference_semantics(
    pattern: list[str], directory: bool, path: list[str]
) -> None:
    glob = "/".join(pattern) + ("/" if directory else "")
    expected = reference_match(pattern + (["**"] if directory else []), path)
    matched = match_path(catalog(Service(name="s", paths=[glob])), None, "/".join(path))
    assert bool(matched) == expected


def test_match_path_on_the_sample(own: Catalog) -> None:
    assert match_path(own, "payments-api", "services/payments/client.py") == [
        ("payments-api", "services/payments/**")
    ]
    assert match_path(own, "acme/checkout", "config/checkout-prod.yaml") == [
        ("checkout", "config/checkout*.yaml")
    ]
    assert match_path(own, "acme/search", "services/payments/client.py") == [("search", "**")]


def test_repo_matches() -> None:
    assert repo_matches("acme-payments/payments-api", "payments-api")
    assert repo_matches("payments-api", "https://github.com/acme-payments/payments-api.git")
    assert not repo_matches("acme/checkout", "other/checkout")
    assert not repo_matches("acme/checkout", "checkout-v2")
    assert repo_matches(None, "anything")


def test_services_for_repo(own: Catalog) -> None:
    assert services_for_repo(own, "payments-api") == ["ledger", "payment-processor", "payments-api"]
    assert services_for_repo(own, "acme/checkout") == ["checkout", "notifications"]
    assert services_for_repo(own, None) == []
    assert services_for_repo(MATCHING, "acme/whole") == ["whole"]  # not the repo-less "tools"


def test_normalize_glob() -> None:
    assert normalize_glob(" ./a\\b//c/ ") == "a/b/c/"
    assert normalize_glob("/a/**/") == "a/**"
    with pytest.raises(ValueError, match="empty"):
        normalize_glob("./")


# --- reasons -----------------------------------------------------------------------------------


def test_describe_path() -> None:
    severities = {"payment-processor": Severity.CRITICAL}
    assert (
        describe_path(["payments-api", "payment-processor"], severities)
        == "payments-api → depends on payment-processor (critical)"
    )
    assert (
        describe_path(["checkout", "payments-api", "payment-processor"], {})
        == "checkout → depends on payments-api → depends on payment-processor"
    )
    assert describe_path(["payment-processor"], severities) == "payment-processor (critical)"
    with pytest.raises(ValueError):
        describe_path([], severities)
