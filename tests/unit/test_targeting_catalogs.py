"""Targeting on the catalogs teams already keep: recall 100 %, no false positives.

Three shapes: a Backstage catalog that uses only Backstage's standard annotations
(https://backstage.io/docs/features/software-catalog/well-known-annotations), a repository with
only a CODEOWNERS file
(https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners),
and a monorepo whose components nest in each other's directories. Each case lists every session
with the service it must be targeted for, or ``None``; a suite passes only with every expected
session found and no other.
"""

from __future__ import annotations

from textwrap import dedent

from oncall_tui.core.agents import AgentSession
from oncall_tui.core.catalog_yaml import parse_catalog
from oncall_tui.core.codeowners import apply_codeowners, parse_codeowners
from oncall_tui.core.models import Incident, IncidentState, Severity
from oncall_tui.core.targeting import affected_sessions
from oncall_tui.core.topology import Catalog
from tests.factories import T0
from tests.support.samples import SAMPLES

PAYMENTS_REPO = "git@github.com:acme-payments/payments-api.git"


def incident(service: str) -> Incident:
    return Incident(
        id="INC-1",
        number=1,
        title=f"{service} is failing",
        service=service,
        services=[service],
        severity=Severity.CRITICAL,
        state=IncidentState.TRIGGERED,
        opened_at=T0,
        updated_at=T0,
    )


def session(session_id: str, repo: str | None, *paths: str) -> AgentSession:
    return AgentSession(id=session_id, repo=repo, paths=list(paths), first_seen=T0, last_seen=T0)


def check(
    catalog: Catalog, degraded: str, expected: dict[str, tuple[AgentSession, str | None]]
) -> None:
    """Every session expected is targeted for its service, and no other session is."""
    sessions = [s for s, _ in expected.values()]
    found = {
        i.session_id: i.service for i in affected_sessions(incident(degraded), catalog, sessions)
    }
    wanted = {sid: svc for sid, (_, svc) in expected.items() if svc is not None}
    assert found == wanted


def entity(name: str, annotations: str, depends_on: str = "[]", owner: str = "team") -> str:
    """A Component as the descriptor format shows it; ``annotations`` may be empty."""
    block = f"  annotations:\n{annotations}\n" if annotations else ""
    return (
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Component\n"
        f"metadata:\n  name: {name}\n{block}"
        "spec:\n  type: service\n  lifecycle: production\n"
        f"  owner: group:default/{owner}\n  dependsOn: {depends_on}\n"
    )


def annotation(key: str, value: str) -> str:
    return f"    {key}: {value}"


STANDARD_ONLY = "---\n".join(
    [
        entity(
            "payment-processor",
            annotation(
                "backstage.io/source-location",
                "url:https://github.com/acme-payments/payments-api/tree/main/services/processor/",
            ),
        ),
        entity(
            "payments-api",
            annotation(
                "backstage.io/managed-by-location",
                "url:https://github.com/acme-payments/payments-api/blob/main/services/payments/catalog-info.yaml",
            ),
            depends_on="[component:default/payment-processor, resource:default/payments-db]",
        ),
        entity(
            "checkout",
            annotation(
                "backstage.io/source-location",
                "url:https://gitlab.com/acme/shop/checkout/-/tree/main/",
            ),
            depends_on="[component:payments-api]",
        ),
        entity("search", annotation("github.com/project-slug", "acme/search")),
    ]
)


def test_a_backstage_catalog_with_only_standard_annotations_targets_exactly() -> None:
    catalog = parse_catalog(STANDARD_ONLY, "catalog-info.yaml")
    check(
        catalog,
        "payment-processor",
        {
            "direct": (
                session("direct", PAYMENTS_REPO, "services/processor/charge.py"),
                "payment-processor",
            ),
            "dependent": (
                session("dependent", PAYMENTS_REPO, "services/payments/api.py"),
                "payments-api",
            ),
            "transitive": (session("transitive", "shop/checkout", "web/cart.ts"), "checkout"),
            "repo-only": (
                session(
                    "repo-only",
                    "checkout",
                ),
                "checkout",
            ),
            "unrelated": (session("unrelated", "acme/search", "main.py"), None),
            "unowned-file": (session("unowned-file", PAYMENTS_REPO, "docs/README.md"), None),
            "another-repo": (
                session("another-repo", "acme/fork", "services/processor/charge.py"),
                None,
            ),
        },
    )


CODEOWNERS_ONLY_CATALOG = "---\n".join(
    [
        # Services known by owner only: no annotation says where their code is.
        entity("payment-processor", "", owner="payments-team"),
        entity("payments-api", "", "[component:payment-processor]", owner="api-team"),
        entity("search", "", owner="discovery"),
    ]
)
CODEOWNERS = dedent(
    """\
    # Everything else: the platform team.
    *                        @acme/platform
    /src/processor/          @acme/payments-team
    /src/api/                @acme/api-team
    /src/api/generated/
    *.md                     docs@acme.example
    """
)


def test_a_repo_with_only_codeowners_gets_path_level_targeting() -> None:
    base = parse_catalog(CODEOWNERS_ONLY_CATALOG, "catalog-info.yaml")
    assert all(s.repo is None and not s.paths for s in base.services.values())
    catalog = apply_codeowners(
        base, parse_codeowners(CODEOWNERS), "acme/payments", ".github/CODEOWNERS", {}
    ).catalog
    repo = "acme/payments"
    check(
        catalog,
        "payment-processor",
        {
            "direct": (session("direct", repo, "src/processor/charge.py"), "payment-processor"),
            "dependent": (session("dependent", repo, "src/api/routes.py"), "payments-api"),
            "repo-only": (session("repo-only", repo), "payment-processor"),
            "no-owner": (session("no-owner", repo, "src/api/generated/client.py"), None),
            "docs": (session("docs", repo, "src/processor/README.md"), None),  # *.md is later
            "platform": (session("platform", repo, "Makefile"), None),
            "another-repo": (session("another-repo", "acme/fork", "src/processor/charge.py"), None),
        },
    )


MONOREPO = "---\n".join(
    [
        entity(
            "payments-api",
            annotation(
                "backstage.io/managed-by-location",
                "url:https://github.com/acme/mono/blob/main/services/payments/catalog-info.yaml",
            ),
        ),
        entity(
            "payment-processor",
            annotation(
                "backstage.io/managed-by-location",
                "url:https://github.com/acme/mono/blob/main/services/payments/processor/catalog-info.yaml",
            ),
        ),
        entity(
            "ledger",
            annotation(
                "backstage.io/source-location",
                "url:https://github.com/acme/mono/tree/main/services/payments/processor/ledger",
            ),
            depends_on="[component:payment-processor]",
        ),
        entity(
            "platform",
            annotation(
                "backstage.io/managed-by-location",
                "url:https://github.com/acme/mono/blob/main/catalog-info.yaml",
            ),
        ),
    ]
)


def test_nested_components_of_a_monorepo_own_their_own_directories() -> None:
    catalog = parse_catalog(MONOREPO, "catalog-info.yaml")
    repo = "acme/mono"
    sessions = {
        "outer": (session("outer", repo, "services/payments/api.py"), "payments-api"),
        "inner": (session("inner", repo, "services/payments/processor/charge.py"), None),
        "innermost": (session("innermost", repo, "services/payments/processor/ledger/a.py"), None),
        "root": (session("root", repo, "Makefile"), None),
    }
    check(catalog, "payments-api", sessions)
    sessions["outer"] = (sessions["outer"][0], None)
    sessions["inner"] = (sessions["inner"][0], "payment-processor")
    sessions["innermost"] = (sessions["innermost"][0], "ledger")
    check(catalog, "payment-processor", sessions)
    sessions = {k: (s, None) for k, (s, _) in sessions.items()}
    sessions["root"] = (sessions["root"][0], "platform")
    check(catalog, "platform", sessions)


def test_the_standard_annotation_sample_and_the_codeowners_sample_target_together() -> None:
    text = (SAMPLES / "backstage" / "standard-annotations.yaml").read_text()
    base = parse_catalog(text, "standard-annotations.yaml")
    codeowners = parse_codeowners((SAMPLES / "codeowners" / "CODEOWNERS").read_text())
    repo = "acme-payments/payments-api"
    catalog = apply_codeowners(base, codeowners, repo, "CODEOWNERS", {}).catalog
    check(
        catalog,
        "payment-processor",
        {
            # team-payments owns two services: both get its rules, the closest is named.
            "processor": (
                session("processor", PAYMENTS_REPO, "libs/acquirer-client/a.py"),
                "payment-processor",
            ),
            "api": (session("api", PAYMENTS_REPO, "services/payments/api.py"), "payments-api"),
            "ledger": (session("ledger", PAYMENTS_REPO, "libs/money/amount.py"), "ledger"),
            "checkout": (session("checkout", "acme/checkout", "web/cart.ts"), "checkout"),
            # A rule without owner adds nothing and takes nothing from the catalog's globs.
            "generated": (
                session("generated", PAYMENTS_REPO, "services/payments/generated/x.py"),
                "payments-api",
            ),
            "search": (session("search", "acme/search", "main.py"), None),
        },
    )
