"""What a lease's holder publishes with it, and who can read it back when."""

from __future__ import annotations

from pathlib import Path

from oncall_tui.store.db import connect
from oncall_tui.store.lease import Lease, read_lease
from oncall_tui.store.lease_read import live_details

DETAILS = {"url": "http://127.0.0.1:8787", "secret": "s3cret"}


def test_details_are_read_back_while_the_lease_is_live(tmp_path: Path) -> None:
    conn = connect(tmp_path / "oncall.db")
    lease = Lease("local-api", "serve", ttl_s=5.0, details=DETAILS)
    assert lease.hold(conn, now=100.0)
    assert live_details(conn, "local-api", now=104.9) == DETAILS
    assert live_details(conn, "local-api", now=105.0) is None, "run out: nobody answers there"
    stored = read_lease(conn, "local-api")
    assert stored is not None and dict(stored[1].details) == DETAILS


def test_a_lease_without_details_publishes_none(tmp_path: Path) -> None:
    conn = connect(tmp_path / "oncall.db")
    assert Lease("export", "serve").hold(conn)
    assert live_details(conn, "export") is None
    stored = read_lease(conn, "export")
    assert stored is not None and dict(stored[1].details) == {}


def test_a_released_lease_publishes_nothing(tmp_path: Path) -> None:
    conn = connect(tmp_path / "oncall.db")
    lease = Lease("local-api", "serve", details=DETAILS)
    assert lease.hold(conn)
    lease.release(conn)
    assert live_details(conn, "local-api") is None
