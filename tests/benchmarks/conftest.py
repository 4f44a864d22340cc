"""Let ``pytest -m benchmark tests/benchmarks`` find the ``bench_*.py`` modules.

pytest only collects ``test_*.py`` by default; the benchmarks are named ``bench_*.py`` so the
runner (``python -m tests.benchmarks``) can tell them apart from ordinary tests. Every test in
a ``bench_*.py`` module counts as a benchmark, marked or not, so a default run (which deselects
``benchmark``) never pays for one.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Module | None:
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
        return module
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: the marker must be on before the "-m 'not benchmark'" deselection looks.
    for item in items:
        if item.path.name.startswith("bench_"):
            item.add_marker(pytest.mark.benchmark)
