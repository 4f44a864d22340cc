"""A throwaway PostgreSQL for the store's tests, and a fresh schema per store.

``ONCALL_TUI_TEST_PG_URL`` names a server to use; otherwise the session starts its own
cluster from the local PostgreSQL binaries (initdb in a temporary directory, a unix socket
there and no TCP, stopped at the end). Without either the PostgreSQL cases skip, except in CI
(``CI=true``), where they fail: there a missing server is a broken setup, not a choice.

Each store opened gets a schema of its own (the URL sets its ``search_path``): far cheaper
than a database per store, and the journal's lock is per schema too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from oncall_tui.core.clock import Clock

if TYPE_CHECKING:
    from oncall_tui.store.journal import Store

URL_VARIABLE = "ONCALL_TUI_TEST_PG_URL"
_BIN_DIRS = sorted(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda d: [int(n) if n.isdigit() else 0 for n in d.parent.name.split(".")],
    reverse=True,
)
"""Debian's PostgreSQL binaries (not on PATH there), newest version first."""
_UNPRIVILEGED = "nobody"
"""PostgreSQL refuses to run as root; a test run as root starts it as this user."""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is needed in CI: {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


def _bin_dir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    return next((d for d in _BIN_DIRS if (d / "initdb").exists()), None)


@dataclass
class Cluster:
    """A cluster this session started: its directory, and how to run its tools."""

    root: Path
    bin_dir: Path
    as_user: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin_dir / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--no-sync", "--locale=C")  # fmt: skip
        options = (
            f"-k {self.root} -c listen_addresses='' -c max_connections=200"
            # A throwaway cluster: nothing to keep across a crash of the machine.
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                 "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={quote(str(self.root), safe='')}"


def start_cluster(kind: type[Cluster] = Cluster, prefix: str = "oncall-pg-") -> Cluster:
    """A new cluster of ``kind`` in a new temporary directory, started; ``RuntimeError`` (the
    directory removed) when there are no binaries or it does not start."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("no initdb on PATH nor under /usr/lib/postgresql")
    root = Path(tempfile.mkdtemp(prefix=prefix))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user=_UNPRIVILEGED)
        as_user = ["runuser", "-u", _UNPRIVILEGED, "--"]
    cluster = kind(root, bin_dir, as_user)
    try:
        cluster.start()
    except (OSError, subprocess.SubprocessError) as exc:
        log = root / "log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start a cluster: {exc} {detail}") from exc
    return cluster


def _start_cluster() -> Cluster:
    try:
        return start_cluster()
    except RuntimeError as exc:
        _unavailable(str(exc))
        raise AssertionError("unreachable") from exc


@dataclass(frozen=True)
class PgServer:
    url: str
    throwaway: bool
    """Started by this session and removed at its end (its schemas need no dropping)."""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the session (see the module's docstring)."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield PgServer(given, throwaway=False)
        return
    cluster = _start_cluster()
    try:
        yield PgServer(cluster.url, throwaway=True)
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def with_search_path(url: str, schema: str) -> str:
    option = quote(f"-csearch_path={schema}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[Callable[[], str]]:
    """A factory of URLs, each of a new empty schema, dropped at the test's end on a server
    the session did not start."""
    import psycopg

    made: list[str] = []

    def new_schema() -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        made.append(name)
        return with_search_path(pg_server.url, name)

    yield new_schema
    if made and not pg_server.throwaway:
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            # A store a failed test left inside a transaction must not hang the run.
            conn.execute("SET lock_timeout = '5s'")
            for name in made:
                with contextlib.suppress(psycopg.Error):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


StoreOpener = Callable[..., "Store"]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StoreOpener]:
    """Opens new, empty stores on each backend in turn: a SQLite file, a PostgreSQL schema.

    Called as ``open_store(clock)``; every store opened is closed at the test's end.
    """
    from oncall_tui.store.journal import Store

    opened: list[Store] = []
    new_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None

    def open_one(clock: Clock | None = None) -> Store:
        where = new_url() if new_url else tmp_path_factory.mktemp("store") / "oncall.db"
        store = Store.open(where, clock)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()
