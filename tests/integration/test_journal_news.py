"""The journal's news on PostgreSQL: a commit is heard with its seq, a rollback is not, each
schema has its own channel, and a listener whose connection is cut reconnects and is told to
catch up. On SQLite there is no such channel: readers poll."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from oncall_tui.core.clock import FixedClock
from oncall_tui.core.journal import SessionSeen
from oncall_tui.store.journal import Store
from oncall_tui.store.journal_news import JournalNews
from tests.integration.conftest import STORY_TIME
from tests.support.postgres import PgServer

HEARD_WITHIN_S = 5.0


class Heard:
    """What a subscriber was told, in order."""

    def __init__(self, news: JournalNews) -> None:
        self.told: queue.Queue[int | None] = queue.Queue()
        news.subscribe(self.told.put)

    def next(self) -> int | None:
        return self.told.get(timeout=HEARD_WITHIN_S)

    def nothing_more(self, within_s: float = 0.3) -> bool:
        try:
            self.told.get(timeout=within_s)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def url(pg_url: Callable[[], str]) -> str:
    return pg_url()


@pytest.fixture
def news(url: str) -> Iterator[JournalNews]:
    Store.open(url).close()  # the schema exists before anyone listens
    listening = JournalNews(url)
    yield listening
    listening.stop()


def append(url: str, count: int = 1) -> int:
    store = Store.open(url, FixedClock(STORY_TIME))
    try:
        with store.write() as writer:
            for _ in range(count):
                entry = writer.append(SessionSeen(session_id="s1"), "agent:s1")
        return entry.seq
    finally:
        store.close()


def started(news: JournalNews) -> Heard:
    heard = Heard(news)
    news.start()
    assert heard.next() is None, "told to catch up once connected"
    assert news.listening
    return heard


def test_a_commit_is_heard_with_its_last_seq_and_a_rollback_is_not(
    url: str, news: JournalNews
) -> None:
    heard = started(news)
    last = append(url, count=3)
    assert heard.next() == last, "one notification per transaction, with its last seq"
    assert news.latest == last

    store = Store.open(url, FixedClock(STORY_TIME))
    try:
        with pytest.raises(RuntimeError), store.write() as writer:
            writer.append(SessionSeen(session_id="s1"), "agent:s1")
            raise RuntimeError("the transaction fails")
    finally:
        store.close()
    assert heard.nothing_more(), "a rolled-back write tells nobody"


def test_each_schema_hears_only_its_own_journal(
    url: str, news: JournalNews, pg_url: Callable[[], str]
) -> None:
    heard = started(news)
    other = pg_url()
    append(other)
    assert heard.nothing_more(), "another team's journal in the same database"
    mine = append(url)
    assert heard.next() == mine


def test_a_cut_connection_reconnects_and_is_told_to_catch_up(
    url: str, news: JournalNews, pg_server: PgServer
) -> None:
    heard = started(news)
    with psycopg.connect(pg_server.url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE pid != pg_backend_pid() AND query LIKE 'LISTEN %'"
        ).fetchall()
    assert cut, "the listening connection was found and cut"
    assert heard.next() is None, "reconnected: catch up, news may have been missed"
    deadline = time.monotonic() + HEARD_WITHIN_S
    while not news.listening:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    seq = append(url)
    assert heard.next() == seq


def test_on_sqlite_nothing_listens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    news = JournalNews(tmp_path / "oncall.db")
    news.start()
    assert not news.listening, "readers of a SQLite file poll max(seq)"
    news.stop()
