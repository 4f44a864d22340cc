"""Where a Backstage component lives, read from the standard annotations.

Entities are shaped as Backstage documents them:
https://backstage.io/docs/features/software-catalog/descriptor-format (entity envelope, Component
and Location kinds) and
https://backstage.io/docs/features/software-catalog/well-known-annotations
(``backstage.io/source-location``, ``backstage.io/managed-by-location``,
``github.com/project-slug``: location references ``url:<target>`` and ``dir:<target>``).
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from oncall_tui.core.backstage import RepoPlace, location_ref, repo_place
from oncall_tui.core.catalog_yaml import CatalogError, location_targets, parse_catalog
from oncall_tui.core.topology import Service, match_path


def component(name: str, annotations: dict[str, str], depends_on: str = "[]") -> str:
    lines = "".join(f"    {key}: {value}\n" for key, value in annotations.items())
    return (
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Component\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  annotations:\n"
        f"{lines}"
        "spec:\n"
        "  type: service\n"
        "  lifecycle: production\n"
        "  owner: group:default/payments-team\n"
        f"  dependsOn: {depends_on}\n"
    )


def service(annotations: dict[str, str]) -> Service:
    return parse_catalog(component("svc", annotations), "catalog-info.yaml").services["svc"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # GitHub: a directory at a ref, the repo root, a file, the root at a ref.
        (
            "https://github.com/acme/payments/tree/main/services/processor/",
            RepoPlace("acme/payments", "services/processor"),
        ),
        ("https://github.com/acme/payments", RepoPlace("acme/payments", "")),
        ("https://github.com/acme/payments/tree/main/", RepoPlace("acme/payments", "")),
        (
            "https://github.com/acme/payments/blob/main/services/processor/catalog-info.yaml",
            RepoPlace("acme/payments", "services/processor/catalog-info.yaml"),
        ),
        # GitLab, with a subgroup: the slug is the last two segments, as sessions report it.
        (
            "https://gitlab.com/acme/platform/payments/-/tree/main/services/processor",
            RepoPlace("platform/payments", "services/processor"),
        ),
        ("https://gitlab.com/acme/payments/-/", RepoPlace("acme/payments", None)),
        # Bitbucket Cloud and Server.
        (
            "https://bitbucket.org/acme/payments/src/main/services/processor",
            RepoPlace("acme/payments", "services/processor"),
        ),
        (
            "https://bitbucket.acme.com/projects/PAY/repos/payments/browse/services/processor",
            RepoPlace("PAY/payments", "services/processor"),
        ),
        # Credentials are dropped, and percent-encoding decoded.
        (
            "https://bot:s3cret@github.com/acme/payments.git",
            RepoPlace("acme/payments", ""),
        ),
        (
            "https://github.com/acme/payments/tree/main/my%20service",
            RepoPlace("acme/payments", "my service"),
        ),
        ("https://example.com/", None),
        ("file:///home/me/payments", None),
    ],
)
def test_code_host_urls_give_the_repo_and_the_path(url: str, expected: RepoPlace | None) -> None:
    assert repo_place(url) == expected


def test_location_refs_split_on_the_first_colon_only() -> None:
    assert location_ref("url:https://github.com/a/b") == ("url", "https://github.com/a/b")
    assert location_ref("dir:./src") == ("dir", "./src")
    assert location_ref("https://github.com/a/b") == ("url", "https://github.com/a/b")


def test_source_location_gives_repo_and_a_directory_glob_with_its_origin() -> None:
    svc = service(
        {
            "backstage.io/source-location": (
                "url:https://github.com/acme-payments/payments-api/tree/main/services/processor/"
            )
        }
    )
    assert (svc.repo, svc.paths) == ("acme-payments/payments-api", ["services/processor/**"])
    assert svc.path_origins == {
        "services/processor/**": "catalog-info.yaml:6 backstage.io/source-location"
    }


def test_a_source_location_at_the_repo_root_owns_the_whole_repo() -> None:
    svc = service(
        {"backstage.io/source-location": "url:https://github.com/acme/checkout/tree/main/"}
    )
    assert (svc.repo, svc.paths) == ("acme/checkout", ["**"])


def test_credentials_in_a_source_location_never_reach_the_catalog() -> None:
    url = "url:https://ci-bot:ghp_token123@github.com/acme/checkout/tree/main/web"
    svc = service({"backstage.io/source-location": url})
    assert (svc.repo, svc.paths) == ("acme/checkout", ["web/**"])
    assert "ghp_token123" not in svc.model_dump_json()


def test_managed_by_location_is_the_fallback_for_a_monorepo_subdirectory() -> None:
    managed = "url:https://github.com/acme/mono/blob/main/services/ledger/catalog-info.yaml"
    svc = service({"backstage.io/managed-by-location": managed})
    assert (svc.repo, svc.paths) == ("acme/mono", ["services/ledger/**"])
    at_root = "url:https://github.com/acme/ledger/blob/main/catalog-info.yaml"
    assert service({"backstage.io/managed-by-location": at_root}).paths == ["**"]


def test_dir_source_locations_are_relative_to_the_catalog_file() -> None:
    managed = "url:https://github.com/acme/mono/blob/main/services/ledger/catalog-info.yaml"
    svc = service(
        {"backstage.io/managed-by-location": managed, "backstage.io/source-location": "dir:./src"}
    )
    assert (svc.repo, svc.paths) == ("acme/mono", ["services/ledger/src/**"])
    up = service(
        {"backstage.io/managed-by-location": managed, "backstage.io/source-location": "dir:../"}
    )
    assert up.paths == ["services/**"]
    # With no managed-by location, the file is taken to sit at its repository's root.
    bare = service(
        {"github.com/project-slug": "acme/mono", "backstage.io/source-location": "dir:."}
    )
    assert (bare.repo, bare.paths) == ("acme/mono", ["**"])


def test_our_own_paths_annotation_wins_over_the_standard_ones() -> None:
    svc = service(
        {
            "backstage.io/source-location": "url:https://github.com/acme/mono/tree/main/services/",
            "oncall-tui/paths": "services/ledger/**, libs/money/**",
        }
    )
    assert (svc.repo, svc.paths) == ("acme/mono", ["services/ledger/**", "libs/money/**"])


def test_the_project_slug_wins_and_a_source_location_elsewhere_gives_no_paths() -> None:
    svc = service(
        {
            "github.com/project-slug": "acme/payments",
            "backstage.io/source-location": "url:https://github.com/acme/fork/tree/main/lib/",
        }
    )
    assert (svc.repo, svc.paths) == ("acme/payments", [])


def test_an_unknown_url_shape_gives_nothing_and_is_not_an_error() -> None:
    svc = service({"backstage.io/source-location": "url:https://example.com/"})
    assert (svc.repo, svc.paths) == (None, [])


def test_standard_annotations_drive_match_path() -> None:
    text = component(
        "payments-api",
        {
            "backstage.io/source-location": (
                "url:https://github.com/acme-payments/payments-api/tree/main/services/payments/"
            )
        },
    )
    catalog = parse_catalog(text, "catalog-info.yaml")
    repo = "git@github.com:acme-payments/payments-api.git"
    hit = match_path(catalog, repo, "services/payments/api.py")
    assert hit == [("payments-api", "services/payments/**")]
    assert match_path(catalog, repo, "services/ledger/api.py") == []
    assert match_path(catalog, "acme/other", "services/payments/api.py") == []


LOCATION = dedent(
    """\
    apiVersion: backstage.io/v1alpha1
    kind: Location
    metadata:
      name: payments-components
    spec:
      type: url
      target: ./processor/catalog-info.yaml
      targets:
        - ./api/catalog-info.yaml
        - https://github.com/acme/other/blob/main/catalog-info.yaml
    """
)


def test_location_targets_are_listed_with_their_lines() -> None:
    found = [(t.target, t.line) for t in location_targets(LOCATION, "all.yaml")]
    assert found == [
        ("./processor/catalog-info.yaml", 7),
        ("./api/catalog-info.yaml", 9),
        ("https://github.com/acme/other/blob/main/catalog-info.yaml", 10),
    ]
    assert location_targets("services: {}\n", "catalog.yaml") == []
    assert parse_catalog(LOCATION, "all.yaml").services == {}


def test_a_bad_location_spec_names_the_line() -> None:
    bad = LOCATION.replace("targets:", "targtes:")
    with pytest.raises(CatalogError) as err:
        location_targets(bad, "all.yaml")
    assert err.value.line == 8
    assert "unknown key 'targtes'" in err.value.problem
