"""``python -m tests.benchmarks``: run every benchmark and print one table.

Each benchmark is a module ``tests/benchmarks/bench_<name>.py`` with ``run(quick: bool) ->
list[Result]`` (rows: figure, our value, the baseline measured in the same run, target,
pass/fail). A module without ``run`` (e.g. one that only has pytest tests) is run through
``pytest -m benchmark`` and reported as one pass/fail row, so nothing is silently skipped.

Options: ``--quick`` (smaller counts, a smoke run), ``--json`` (machine-readable, on stdout),
``--only NAME`` (repeatable; NAME is the part after ``bench_``). Exit status 0 when every row
with a target passed, 1 otherwise, 2 when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.benchmarks._common import REPO, Result, fmt, machine_info

HERE = Path(__file__).resolve().parent
ORDER = ("ingest_file", "ingest_http", "storm", "context", "dashboard", "cli", "hook", "reports")
"""Cheapest first; anything else found runs after these, alphabetically."""


def discover() -> list[str]:
    found = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def _coerce(row: Any) -> Result:
    """Rows from modules we do not own may be Results, dicts or (name, value, unit, baseline,
    target, passed) tuples; normalise them rather than crash the table."""
    if isinstance(row, Result):
        return row
    if isinstance(row, dict):
        known = set(Result.__dataclass_fields__)
        return Result(**{k: v for k, v in row.items() if k in known})
    name, value, unit, baseline, target, passed = tuple(row)[:6]
    return Result(str(name), float(value), str(unit), baseline, target=target, passed=passed)


def _run_module(name: str, quick: bool) -> list[Result]:
    module = importlib.import_module(f"tests.benchmarks.bench_{name}")
    runner: Callable[..., Sequence[Any]] | None = getattr(module, "run", None)
    if runner is None or not callable(runner):
        return [_run_with_pytest(name)]
    params = inspect.signature(runner).parameters
    rows = runner(quick=quick) if "quick" in params else runner()
    return [_coerce(r) for r in rows]


def _run_with_pytest(name: str) -> Result:
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "benchmark",
            str(HERE / f"bench_{name}.py"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = (proc.stdout.strip().splitlines() or ["no output"])[-1]
    return Result(
        f"{name}: pytest -m benchmark",
        time.perf_counter() - started,
        "s",
        passed=proc.returncode == 0,
        notes=summary,
    )


def run_all(
    names: Sequence[str], quick: bool, log: Callable[[str], None]
) -> tuple[list[Result], list[str]]:
    results: list[Result] = []
    crashed: list[str] = []
    for name in names:
        log(f"running {name}{' (quick)' if quick else ''} ...")
        started = time.perf_counter()
        try:
            rows = _run_module(name, quick)
        except Exception:
            crashed.append(name)
            log(traceback.format_exc())
            rows = [Result(f"{name}: crashed", math.nan, "", passed=False, notes="see stderr")]
        log(f"  {name} done in {time.perf_counter() - started:.1f} s")
        results += rows
    return results, crashed


def table(results: Sequence[Result]) -> str:
    """One Markdown table (pipes, so it pastes into RESULTS.md as is)."""
    header = ("figure", "ours", "baseline (same run)", "ratio", "target", "result")
    lines = [header]
    for r in results:
        verdict = "-" if r.passed is None else ("PASS" if r.passed else "FAIL")
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}×"
        baseline = "-" if r.baseline is None else f"{fmt(r.baseline)} {r.unit}"
        lines.append(
            (
                r.name,
                f"{fmt(r.value)} {r.unit}",
                baseline,
                ratio,
                f"{r.target_text} {r.unit}" if r.target is not None else "-",
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for index, row in enumerate(lines):
        out.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
        if index == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def compile_package() -> None:
    """Compile the package's bytecode before anything is timed, as an installed copy has it
    (pip compiles a wheel at install, and Python caches what it imports). Without it, where
    ``PYTHONDONTWRITEBYTECODE`` is set, every short-lived process timed (a hook, a command)
    would compile each module it imports from source first: ~20 ms no user pays."""
    import compileall

    compileall.compile_dir(REPO / "oncall_tui", quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts (smoke run)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this one")
    args = parser.parse_args(argv)
    available = discover()
    names = args.only or available
    unknown = [n for n in names if n not in available]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(available)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    compile_package()
    info = machine_info()
    info["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results, crashed = run_all(names, args.quick, log)
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    targets = [r for r in results if r.passed is not None]
    all_passed = all(r.passed for r in targets)
    if args.json:
        json.dump(
            {
                "machine": info,
                "quick": args.quick,
                "benchmarks": list(names),
                "results": [r.as_json() for r in results],
                "crashed": crashed,
                "passed": all_passed and not crashed,
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        print(
            f"{info['date']} · {info['nproc']} cores · {info['cpu']} · Python {info['python']} · "
            f"SQLite {info['sqlite']} · load {info['load_before']} → {info['load_after']}"
            f"{' · QUICK' if args.quick else ''}"
        )
        print(table(results))
        for r in results:
            if r.notes or r.baseline_label:
                label = f"baseline: {r.baseline_label}; " if r.baseline_label else ""
                print(f"- {r.name}: {label}{r.notes}")
    if crashed:
        return 2
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
