"""CODEOWNERS read with GitHub's semantics, and turned into path-level service ownership.

The sample is shaped as GitHub's example file:
https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners#example-of-a-codeowners-file
(its rules and owners, our own comments). The expectations are the ones that page states for
each rule; the syntax GitHub says does not work (``!``, ``[ ]``, a leading ``\\#``) is skipped.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from oncall_tui.core.catalog_explain import explain_path
from oncall_tui.core.codeowners import (
    CodeownersFile,
    apply_codeowners,
    codeowners_glob,
    parse_codeowners,
)
from oncall_tui.core.topology import Catalog, Service, glob_matches, match_path

GITHUB_EXAMPLE = dedent(
    """\
    # Default owners of everything, unless a later rule matches.
    *       @global-owner1 @global-owner2

    # Later rules win: JS files go to the JS owner alone.
    *.js    @js-owner #an inline comment

    *.go docs@example.com

    *.txt @octo-org/octocats

    /build/logs/ @doctocat

    docs/* docs@example.com

    apps/ @octocat

    /docs/ @doctocat

    /scripts/ @doctocat @octocat

    **/logs @octocat

    /apps/ @octocat
    /apps/github
    """
)


def owners_of(parsed: CodeownersFile, path: str) -> tuple[str, ...] | None:
    """The owners GitHub would request for ``path``: the last matching rule's, if any."""
    last = None
    for rule in parsed.rules:
        if glob_matches(rule.glob, path):
            last = rule
    return last.owners if last is not None else None


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ("@global-owner1", "@global-owner2")),
        ("src/index.js", ("@js-owner",)),
        ("cmd/main.go", ("docs@example.com",)),
        ("notes/todo.txt", ("@octo-org/octocats",)),
        ("build/logs/today/out.log", ("@octocat",)),  # **/logs is later and matches too
        ("build/logs.md", ("@global-owner1", "@global-owner2")),
        ("docs/getting-started.md", ("@doctocat",)),  # /docs/ is later than docs/*
        ("scripts/deploy.sh", ("@doctocat", "@octocat")),
        ("deeply/nested/logs/x.txt", ("@octocat",)),
        ("web/apps/page.html", ("@octocat",)),  # apps/ matches at any depth
        ("apps/main/index.html", ("@octocat",)),
        ("apps/github/index.html", ()),  # matched by a rule with no owner: no owner
    ],
)
def test_the_github_example_resolves_as_the_docs_say(path: str, owners: tuple[str, ...]) -> None:
    assert owners_of(parse_codeowners(GITHUB_EXAMPLE), path) == owners


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("docs/*", ["docs/getting-started.md"], ["docs/build-app/troubleshooting.md"]),
        ("/build/logs/", ["build/logs/a.log", "build/logs/x/y.log"], ["x/build/logs/a.log"]),
        ("apps/", ["apps/a.js", "x/apps/y/z.js"], ["apps", "myapps/a.js"]),
        ("**/logs", ["logs/a", "a/b/logs/c"], ["a/logsx"]),
        ("*.js", ["a.js", "x/y/b.js"], ["a.jsx"]),
        ("/apps/github", ["apps/github", "apps/github/a.rb"], ["x/apps/github"]),
        ("src/lib", ["src/lib/a.c"], ["x/src/lib/a.c"]),  # a middle slash anchors
        ("*", ["a", "x/y/z"], []),
        ("/*", ["README.md"], ["docs/a.md"]),
        ("path\\ with\\ spaces/", ["x/path with spaces/a"], []),
    ],
)
def test_patterns_translate_to_catalog_globs(
    pattern: str, matches: list[str], misses: list[str]
) -> None:
    glob = codeowners_glob(parse_codeowners(f"{pattern} @o\n").rules[0].pattern)
    assert [p for p in matches if not glob_matches(glob, p)] == []
    assert [p for p in misses if glob_matches(glob, p)] == []


def test_lines_github_does_not_support_are_skipped_and_reported() -> None:
    parsed = parse_codeowners(
        "\\#notes.md @a\n!vendor/ @a\nsrc/[ab].c @a\nlib/ not-an-owner\n"
        "[Section]\ndocs/\\#1.md @docs # comment\n"
    )
    assert [line for line, _ in parsed.skipped] == [1, 2, 3, 4, 5]
    assert "escaped '#'" in parsed.skipped[0][1]
    assert "negation" in parsed.skipped[1][1]
    assert "ranges" in parsed.skipped[2][1]
    assert "not an owner" in parsed.skipped[3][1]
    [rule] = parsed.rules
    assert (rule.line, rule.pattern, rule.owners) == (6, "docs/#1.md", ("@docs",))


CATALOG = Catalog(
    services={
        "payment-processor": Service(
            name="payment-processor", repo="acme/payments", owners=["payments-team"]
        ),
        "payments-api": Service(
            name="payments-api",
            repo="acme/payments",
            owners=["api-team"],
            depends_on=["payment-processor"],
        ),
        "search": Service(name="search", repo="acme/search", owners=["discovery"]),
    }
)
PAYMENTS_CODEOWNERS = dedent(
    """\
    *                      @acme/platform
    /services/processor/   @acme/payments-team
    /services/api/         @acme/api-team
    /services/api/vendored/
    /libs/                 @acme/payments-team
    /libs/http/            @acme/api-team
    /libs/http/retry/      @acme/payments-team
    """
)


def applied(owner_map: dict[str, list[str]] | None = None) -> Catalog:
    parsed = parse_codeowners(PAYMENTS_CODEOWNERS)
    return apply_codeowners(
        CATALOG, parsed, "acme/payments", ".github/CODEOWNERS", owner_map or {}
    ).catalog


@pytest.mark.parametrize(
    ("path", "services"),
    [
        ("services/processor/charge.py", ["payment-processor"]),
        ("services/api/routes.py", ["payments-api"]),
        ("services/api/vendored/lib.py", []),  # the last rule has no owner
        ("libs/money.py", ["payment-processor"]),
        ("libs/http/client.py", ["payments-api"]),  # a later rule takes it away
        ("libs/http/retry/backoff.py", ["payment-processor"]),  # and a still later gives back
        ("README.md", []),  # @acme/platform owns no service
    ],
)
def test_the_last_matching_rule_decides_which_service_owns_a_file(
    path: str, services: list[str]
) -> None:
    catalog = applied()
    assert [name for name, _ in match_path(catalog, "acme/payments", path)] == services
    owning = [r.service for r in explain_path(catalog, "acme/payments", path) if r.owns]
    assert owning == services


def test_codeowners_rules_only_apply_in_their_repo() -> None:
    catalog = applied()
    hit = match_path(catalog, "acme/search", "services/processor/charge.py")
    assert hit == [("search", "**")]  # search owns that whole repo, the rules are elsewhere
    # A service with CODEOWNERS rules in its repo no longer owns all of it.
    assert match_path(catalog, "acme/payments", "Makefile") == []
    assert match_path(catalog, "acme/search", "main.py") == [("search", "**")]


def test_the_configured_mapping_wins_and_can_add_services() -> None:
    catalog = applied({"@acme/platform": ["platform-tools"], "@ACME/api-team": ["search"]})
    readme = match_path(catalog, "acme/payments", "README.md")
    # payments-api's team now maps elsewhere: with no rules, it owns its whole repo again.
    assert readme == [("payments-api", "**"), ("platform-tools", "**/*")]
    api = match_path(catalog, "acme/payments", "services/api/a.py")
    assert [n for n, _ in api] == ["payments-api", "search"]
    assert catalog.services["platform-tools"].repo is None


def test_applying_again_replaces_the_rules_of_that_repo() -> None:
    once = applied()
    parsed = parse_codeowners("/services/ @acme/payments-team\n")
    twice = apply_codeowners(once, parsed, "acme/payments", "CODEOWNERS", {}).catalog
    assert [len(s.path_rules) for s in twice.services.values()] == [1, 0, 0]
    hit = match_path(twice, "acme/payments", "services/api/routes.py")
    assert hit == [("payment-processor", "services/*/**"), ("payments-api", "**")]


def test_the_report_counts_rules_per_service_and_unmapped_owners() -> None:
    result = apply_codeowners(
        CATALOG, parse_codeowners(PAYMENTS_CODEOWNERS), "acme/payments", "CODEOWNERS", {}
    )
    assert result.rules_by_service == {"payment-processor": 3, "payments-api": 2}
    assert result.unmapped_owners == {"@acme/platform": 1}


def test_explain_names_the_rule_that_took_a_file_away() -> None:
    reasons = explain_path(applied(), "acme/payments", "libs/http/client.py")
    assert [(r.service, r.owns) for r in reasons] == [
        ("payment-processor", False),
        ("payments-api", True),
    ]
    assert reasons[0].why == (
        ".github/CODEOWNERS:5 /libs/ @acme/payments-team (glob libs/*/**) is overridden by "
        "the later .github/CODEOWNERS:6 /libs/http/ @acme/api-team (glob libs/http/*/**)"
    )


def test_other_teams_rules_that_cannot_overlap_are_not_repeated() -> None:
    processor = applied().services["payment-processor"]
    [rule_set] = processor.path_rules
    # /services/api/ (and its vendored exception) cannot match /services/processor/ or /libs/.
    assert [(r.glob, r.owned) for r in rule_set.rules] == [
        ("services/processor/*/**", True),
        ("libs/*/**", True),
        ("libs/http/*/**", False),
        ("libs/http/retry/*/**", True),
    ]
