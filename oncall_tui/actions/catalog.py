"""Loading the service catalog, which changes who every incident affects."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oncall_tui.actions import Rules, active_incident_ids, reconcile
from oncall_tui.actions.catalog_sources import gather, read_bounded
from oncall_tui.core.catalog_yaml import CatalogError, parse_catalog, parse_catalogs
from oncall_tui.core.codeowners import Applied, apply_codeowners, parse_codeowners
from oncall_tui.core.journal import CatalogLoaded
from oncall_tui.core.topology import Catalog
from oncall_tui.store.journal import Store


def load_catalog_file(store: Store, rules: Rules, path: Path, actor: str) -> Catalog:
    catalog = parse_catalog(read_bounded(path), str(path))
    _record(store, rules, catalog, str(path), actor)
    return catalog


@dataclass(frozen=True)
class CodeownersReport:
    """What one CODEOWNERS file gave: per service rule counts, unmatched owners, skipped lines."""

    path: Path
    repo: str
    applied: Applied
    skipped_lines: list[tuple[int, str]]


@dataclass(frozen=True)
class LoadReport:
    catalog: Catalog
    source: str
    codeowners: list[CodeownersReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def load_catalogs(
    store: Store,
    rules: Rules,
    paths: Sequence[Path],
    actor: str,
    *,
    repo_of: Callable[[Path], str | None],
    owner_map: Mapping[str, Sequence[str]],
) -> LoadReport:
    """Load catalog files, Locations and CODEOWNERS files together, as one new catalog.

    Catalog files (and the files their Locations name) replace the catalog; a service defined
    in two of them is an error naming both. CODEOWNERS files are applied on top: on the new
    catalog, or on the loaded one when only CODEOWNERS files are given. ``repo_of`` names the
    repository of a CODEOWNERS file (the ``--repo`` given, or its checkout's remote).
    """
    inputs = gather(paths)
    if inputs.catalog_files:
        catalog = parse_catalogs(inputs.catalog_files)
    else:
        catalog = Catalog(services=store.tables().get_catalog(), source="the loaded catalog")
    reports: list[CodeownersReport] = []
    for path, text in inputs.codeowners:
        repo = repo_of(path)
        if repo is None:
            raise CatalogError(str(path), 1, "which repository is this? give --repo ORG/REPO")
        clash = next((r for r in reports if r.repo.lower() == repo.lower()), None)
        if clash is not None:
            problem = f"a second CODEOWNERS for {repo} (the first is {clash.path})"
            raise CatalogError(str(path), 1, problem)
        parsed = parse_codeowners(text)
        applied = apply_codeowners(catalog, parsed, repo, str(path), owner_map)
        if not applied.rules_by_service:
            owners = ", ".join(applied.unmapped_owners) or "none"
            problem = (
                f"no owner matches a catalog service (owners: {owners}); "
                "map them under [catalog] owners in the configuration"
            )
            raise CatalogError(str(path), 1, problem)
        catalog = applied.catalog
        reports.append(CodeownersReport(path, repo, applied, parsed.skipped))
    source = ", ".join([name for name, _ in inputs.catalog_files] + [str(r.path) for r in reports])
    _record(store, rules, catalog, source, actor)
    return LoadReport(catalog, source, reports, inputs.skipped)


def _record(store: Store, rules: Rules, catalog: Catalog, source: str, actor: str) -> None:
    with store.write(durable=True) as writer:
        writer.append(CatalogLoaded(dict(catalog.services), source), actor=actor)
        reconcile(writer, active_incident_ids(writer), rules)
