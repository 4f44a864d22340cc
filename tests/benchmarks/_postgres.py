"""A PostgreSQL cluster for the benchmarks: started for a run, durable as a real one is.

The tests' cluster (:mod:`tests.support.postgres`) turns ``fsync`` and ``synchronous_commit``
off, since nothing there must survive a crash. A benchmark of the receiver compares its
acknowledgements with SQLite's, which are on disk (``synchronous=FULL``) before a sender gets
its 202, so this cluster keeps PostgreSQL's defaults: every commit is flushed to its WAL
(``fsync=on``, ``synchronous_commit=on``, ``full_page_writes=on``), on the same disk as the
benchmark's SQLite files. Unix socket only, stopped and removed however the block ends.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.postgres import Cluster, start_cluster, with_search_path


class DurableCluster(Cluster):
    """:class:`~tests.support.postgres.Cluster` with PostgreSQL's durable defaults kept."""

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C")  # fmt: skip
        options = f"-k {self.root} -c listen_addresses='' -c max_connections=50"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                 "-w", "-t", "60", "start")  # fmt: skip

    @property
    def version(self) -> str:
        """The server's version, as it reports it (``15.18``...)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"

    def new_schema(self) -> str:
        """The URL of a new empty schema (a fresh store, as a fresh SQLite file is)."""
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return with_search_path(self.url, name)


@contextmanager
def durable_cluster() -> Iterator[DurableCluster]:
    """A started :class:`DurableCluster`, stopped and removed however the block ends; raises
    ``RuntimeError`` when none can start."""
    cluster = start_cluster(DurableCluster, prefix="oncall-bench-pg-")
    assert isinstance(cluster, DurableCluster)
    try:
        yield cluster
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def counts(url: str) -> tuple[int, int, int]:
    """(deliveries accepted, deliveries still received, signals) in the store at ``url``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM deliveries WHERE status = 'accepted'),"
            " (SELECT count(*) FROM deliveries WHERE status = 'received'),"
            " (SELECT count(*) FROM signals)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])
