"""The token store: hashed, revocable, each use noted at most once a minute (injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.core.clock import FixedClock
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import NotFoundError
from oncall_tui.store.tokens import (
    TokenNameError,
    check_token,
    create_token,
    list_tokens,
    revoke_token,
    token_hash,
)

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "tokens.db", FixedClock(NOON))


def test_only_the_hash_is_stored_and_the_token_checks_out(store: Store) -> None:
    token = create_token(store, "laptop-1", "user:alice")

    stored = store.conn.execute("SELECT name, hash FROM agent_tokens").fetchall()

    assert stored == [("laptop-1", token_hash(token))]
    assert check_token(store, token) == "laptop-1"
    assert check_token(store, token + "x") is None


def test_use_is_recorded_at_most_once_a_minute(store: Store) -> None:
    clock = store.clock
    assert isinstance(clock, FixedClock)
    token = create_token(store, "ci-2", "user:alice")

    check_token(store, token)
    first = list_tokens(store.conn)[0].last_used_at
    clock.advance(30)
    check_token(store, token)
    unchanged = list_tokens(store.conn)[0].last_used_at
    clock.advance(31)
    check_token(store, token)
    later = list_tokens(store.conn)[0].last_used_at

    assert first == unchanged == NOON
    assert later is not None and (later - NOON).total_seconds() == 61


def test_a_revoked_token_is_refused_and_revoking_twice_is_an_error(store: Store) -> None:
    token = create_token(store, "laptop-1", "user:alice")

    revoke_token(store, "laptop-1", "user:bob")

    assert check_token(store, token) is None
    assert list_tokens(store.conn)[0].revoked_at == NOON
    with pytest.raises(NotFoundError):
        revoke_token(store, "laptop-1", "user:bob")
    actors = store.conn.execute("SELECT actor FROM journal ORDER BY seq").fetchall()
    assert actors == [("user:alice",), ("user:bob",)]


@pytest.mark.parametrize("name", ["", "-dash-first", "has space", "x" * 65, "semi;colon"])
def test_a_malformed_name_is_refused_before_anything_is_written(store: Store, name: str) -> None:
    with pytest.raises(TokenNameError):
        create_token(store, name, "user:alice")
    assert store.conn.execute("SELECT count(*) FROM journal").fetchone() == (0,)
