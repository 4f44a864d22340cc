"""Loading the service catalog, which changes who every incident affects."""

from __future__ import annotations

from pathlib import Path

from oncall_tui.actions import Rules, active_incident_ids, reconcile
from oncall_tui.core.catalog_yaml import MAX_CATALOG_BYTES, check_size, parse_catalog
from oncall_tui.core.journal import CatalogLoaded
from oncall_tui.core.topology import Catalog
from oncall_tui.store.journal import Store


def load_catalog_file(store: Store, rules: Rules, path: Path, actor: str) -> Catalog:
    # Read one byte past the limit, never the whole file: it may be huge, or endless (a pipe).
    with path.open("rb") as file:
        data = file.read(MAX_CATALOG_BYTES + 1)
    check_size(len(data), str(path))
    catalog = parse_catalog(data.decode("utf-8"), str(path))
    with store.write(durable=True) as writer:
        writer.append(CatalogLoaded(dict(catalog.services), str(path)), actor=actor)
        reconcile(writer, active_incident_ids(writer), rules)
    return catalog
