"""Finding the files of a catalog: the ones named, the ones Backstage Locations name, CODEOWNERS.

Reading stays local: a Location target that is a URL is reported as skipped, never fetched.
Relative targets are resolved against the directory of the Location's file, as Backstage does,
and may be globs (``./services/*/catalog-info.yaml``). Every file is read once however many
Locations name it, so a Location naming itself (or a cycle of them) ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oncall_tui.core.catalog_yaml import (
    MAX_CATALOG_BYTES,
    CatalogError,
    LocationTarget,
    check_size,
    location_targets,
)
from oncall_tui.core.codeowners import CODEOWNERS_LOCATIONS

MAX_CATALOG_FILES = 1000
"""More files than any real catalog has; beyond it, a glob or a Location is likely a mistake."""
_GLOB_CHARS = ("*", "?", "[")


@dataclass
class CatalogInputs:
    """What a load reads: catalog files as ``(name, text)``, CODEOWNERS files, and skips."""

    catalog_files: list[tuple[str, str]] = field(default_factory=list)
    codeowners: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def gather(paths: Sequence[Path]) -> CatalogInputs:
    """Read every file a load names, following Locations; raises :class:`CatalogError`."""
    inputs = CatalogInputs()
    seen: set[Path] = set()
    pending = list(paths)
    while pending:
        path = pending.pop(0)
        if path.is_dir():
            inputs.codeowners.append(_codeowners_in(path))
            continue
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        if len(seen) > MAX_CATALOG_FILES:
            problem = f"more than {MAX_CATALOG_FILES} catalog files (a Location glob too wide?)"
            raise CatalogError(str(path), 1, problem)
        text = read_bounded(path)
        if path.name == "CODEOWNERS":
            inputs.codeowners.append((path, text))
            continue
        inputs.catalog_files.append((str(path), text))
        for target in location_targets(text, str(path)):
            found, skipped = _resolve(path.parent, target)
            pending += found
            inputs.skipped += skipped
    return inputs


def read_bounded(path: Path) -> str:
    """A file's text, refusing one over the catalog limit without reading it all."""
    # Read one byte past the limit, never the whole file: it may be huge, or endless (a pipe).
    with path.open("rb") as file:
        data = file.read(MAX_CATALOG_BYTES + 1)
    check_size(len(data), str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(str(path), 1, f"not UTF-8 text: {exc.reason}") from None


def _codeowners_in(directory: Path) -> tuple[Path, str]:
    for relative in CODEOWNERS_LOCATIONS:
        candidate = directory / relative
        if candidate.is_file():
            return candidate, read_bounded(candidate)
    places = ", ".join(CODEOWNERS_LOCATIONS)
    raise CatalogError(str(directory), 1, f"no CODEOWNERS file here (looked for {places})")


def _resolve(base: Path, target: LocationTarget) -> tuple[list[Path], list[str]]:
    """The local files a Location target names, or why it was skipped."""
    where = f"{target.filename}:{target.line}"
    value = target.target
    if "://" in value or (target.type == "url" and not value.startswith((".", "/"))):
        return [], [f"{where}: skipped {value} (not a local file; nothing is fetched)"]
    if any(char in value for char in _GLOB_CHARS):
        if value.startswith("/"):
            return [], [f"{where}: skipped {value} (an absolute glob; write it relative)"]
        found = sorted(p for p in base.glob(value) if p.is_file())
        return found, [] if found else [f"{where}: skipped {value} (no file matches)"]
    path = base / value
    if not path.is_file():
        raise CatalogError(target.filename, target.line, f"Location target not found: {value}")
    return [path], []
