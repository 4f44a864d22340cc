"""``oncall-tui catalog load A B C`` and ``catalog show --explain``, on real files in a temp dir.

Backstage files are shaped as https://backstage.io/docs/features/software-catalog/descriptor-format
shows them (a ``kind: Location`` with ``spec.targets``, Components with the annotations of
https://backstage.io/docs/features/software-catalog/well-known-annotations); CODEOWNERS as
https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
shows it. Repositories for the git-remote cases are real ``git init`` checkouts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner, Result

from oncall_tui.cli import cli
from tests.support.environment import drop_our_variables

LOCATION = dedent(
    """\
    apiVersion: backstage.io/v1alpha1
    kind: Location
    metadata:
      name: payments
    spec:
      targets:
        - ./components/processor.yaml
        - ./components/api.yaml
        - https://github.com/acme/elsewhere/blob/main/catalog-info.yaml
    """
)
PROCESSOR = dedent(
    """\
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: payment-processor
      annotations:
        backstage.io/source-location: url:https://github.com/acme/payments/tree/main/services/processor/
    spec:
      type: service
      lifecycle: production
      owner: group:default/payments-team
    """
)
API = dedent(
    """\
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: payments-api
      annotations:
        github.com/project-slug: acme/payments
    spec:
      type: service
      lifecycle: production
      owner: group:default/api-team
      dependsOn: [component:default/payment-processor]
    """
)
CODEOWNERS = dedent(
    """\
    *               @acme/platform
    /libs/          @acme/payments-team
    /libs/http/     @acme/api-team
    """
)


Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    drop_our_variables(monkeypatch)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", str(tmp_path / "cli.db"), *args])

    return invoke


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def catalog_tree(root: Path) -> Path:
    write(root / "catalog" / "components" / "processor.yaml", PROCESSOR)
    write(root / "catalog" / "components" / "api.yaml", API)
    return write(root / "catalog" / "all.yaml", LOCATION)


def git_checkout(path: Path, remote: str) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


def test_a_location_and_a_codeowners_directory_load_together(run: Run, tmp_path: Path) -> None:
    location = catalog_tree(tmp_path)
    repo = tmp_path / "payments"
    write(repo / ".github" / "CODEOWNERS", CODEOWNERS)
    write(repo / "CODEOWNERS", "* @someone-else\n")  # .github/ is looked at first, as GitHub does

    done = run("catalog", "load", str(location), str(repo), "--repo", "acme/payments")

    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == (
        f"loaded 2 services from {location}, {location.parent}/components/processor.yaml, "
        f"{location.parent}/components/api.yaml, {repo}/.github/CODEOWNERS"
    )
    assert lines[1] == (
        f"{repo}/.github/CODEOWNERS (acme/payments): rules → payment-processor (1 rule), "
        "payments-api (1 rule)"
    )
    assert lines[2] == "    owners without a service: @acme/platform (1 rule)"
    assert lines[3] == (
        f"{location}:9: skipped https://github.com/acme/elsewhere/blob/main/catalog-info.yaml "
        "(not a local file; nothing is fetched)"
    )

    explained = run(
        "catalog", "show", "--explain", "libs/http/client.py", "--repo", "acme/payments"
    )
    assert explained.exit_code == 0, explained.output
    assert explained.output.splitlines() == [
        "libs/http/client.py in acme/payments",
        f"    payment-processor: not its file: {repo}/.github/CODEOWNERS:2 /libs/ "
        f"@acme/payments-team (glob libs/*/**) is overridden by the later "
        f"{repo}/.github/CODEOWNERS:3 /libs/http/ @acme/api-team (glob libs/http/*/**)",
        f"    payments-api: {repo}/.github/CODEOWNERS:3 /libs/http/ @acme/api-team "
        "(glob libs/http/*/**) is the last rule matching it",
    ]
    by_annotation = run("catalog", "show", "--explain", "services/processor/charge.py")
    assert by_annotation.output.splitlines() == [
        "services/processor/charge.py in any repo",
        "    payment-processor: glob services/processor/** from "
        f"{location.parent}/components/processor.yaml:6 backstage.io/source-location",
    ]
    nobody = run("catalog", "show", "--explain", "README.md", "--repo", "acme/payments")
    assert nobody.output.splitlines() == ["README.md in acme/payments", "    belongs to no service"]


def test_a_service_defined_in_two_files_is_one_line_naming_both(run: Run, tmp_path: Path) -> None:
    first = write(tmp_path / "a" / "catalog-info.yaml", PROCESSOR)
    second = write(tmp_path / "b" / "catalog-info.yaml", PROCESSOR.replace("processor/", "proc/"))

    done = run("catalog", "load", str(first), str(second))

    assert done.exit_code == 1
    assert done.output == (
        f"Error: {second}:4: duplicate service 'payment-processor' (first defined at {first}:4)\n"
    )
    assert run("catalog", "show").output == "no catalog loaded (oncall-tui catalog load FILE)\n"


def test_codeowners_alone_apply_to_the_loaded_catalog_through_the_configured_owners(
    run: Run, tmp_path: Path
) -> None:
    assert run("catalog", "load", str(catalog_tree(tmp_path))).exit_code == 0
    config = write(
        tmp_path / "config.toml",
        '[catalog]\nowners = { "@acme/platform" = ["platform-tools"] }\n',
    )
    codeowners = write(tmp_path / "repo" / "CODEOWNERS", CODEOWNERS)

    done = CliRunner().invoke(
        cli,
        ["--db", str(tmp_path / "cli.db"), "--config", str(config), "catalog", "load"]
        + [str(codeowners), "--repo", "acme/payments"],
    )

    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == f"loaded 3 services from {codeowners}"
    explained = run("catalog", "show", "--explain", "Makefile", "--repo", "acme/payments")
    assert explained.output.splitlines()[1] == (
        f"    platform-tools: {codeowners}:1 * @acme/platform (glob **/*) is the last rule "
        "matching it"
    )


def test_codeowners_whose_owners_match_nothing_load_nothing(run: Run, tmp_path: Path) -> None:
    codeowners = write(tmp_path / "CODEOWNERS", "* @acme/nobody\n")

    done = run("catalog", "load", str(codeowners), "--repo", "acme/payments")

    assert done.exit_code == 1
    assert done.output == (
        f"Error: {codeowners}:1: no owner matches a catalog service (owners: @acme/nobody); "
        "map them under [catalog] owners in the configuration\n"
    )


def test_the_repo_of_a_codeowners_file_and_of_an_explained_file_come_from_git(
    run: Run, tmp_path: Path
) -> None:
    location = catalog_tree(tmp_path)
    checkout = git_checkout(tmp_path / "work" / "payments", "https://github.com/acme/payments.git")
    write(checkout / "docs" / "CODEOWNERS", CODEOWNERS)
    source = write(checkout / "libs" / "money.py", "")

    done = run("catalog", "load", str(location), str(checkout))
    assert done.exit_code == 0, done.output
    assert f"{checkout}/docs/CODEOWNERS (acme/payments)" in done.output

    explained = run("catalog", "show", "--explain", str(source))
    assert explained.output.splitlines()[:2] == [
        "libs/money.py in acme/payments",
        f"    payment-processor: {checkout}/docs/CODEOWNERS:2 /libs/ @acme/payments-team "
        "(glob libs/*/**) is the last rule matching it",
    ]


def test_a_codeowners_outside_git_without_repo_is_refused(run: Run, tmp_path: Path) -> None:
    run("catalog", "load", str(catalog_tree(tmp_path)))
    codeowners = write(tmp_path / "outside" / "CODEOWNERS", CODEOWNERS)
    done = run("catalog", "load", str(codeowners))
    assert done.exit_code == 1
    assert done.output == (
        f"Error: {codeowners}:1: which repository is this? give --repo ORG/REPO\n"
    )
