"""The collector's pauses and freeze holds: nested and overlapping owners leave it as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from oncall_tui.core import collector


@pytest.fixture(autouse=True)
def nothing_frozen() -> Iterator[None]:
    # A hold another test left would keep the heap frozen for the rest of this process.
    assert gc.get_freeze_count() == 0
    yield
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_paused_blocks_nest_and_the_collector_is_back_after_the_last() -> None:
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_a_pause_made_joins_the_oldest_generation() -> None:
    with collector.paused():
        kept = [[n] for n in range(100)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(item) in oldest for item in kept)


def test_what_a_pause_made_stays_frozen_while_a_hold_is_held() -> None:
    hold = collector.FreezeHold()
    hold.renew()
    before = gc.get_freeze_count()
    with collector.paused():
        kept = [[n] for n in range(1_000)]
    assert gc.get_freeze_count() >= before + len(kept)
    hold.release()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_pause_ends_when_its_block_raises() -> None:
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("a fold failed")
    assert gc.isenabled()


def test_the_heap_is_given_back_when_the_last_hold_is_released() -> None:
    kept = [[n] for n in range(1_000)]
    first, second = collector.FreezeHold(), collector.FreezeHold()
    first.renew()
    frozen = gc.get_freeze_count()
    assert frozen >= len(kept)
    second.renew()
    first.release()
    first.release()  # twice is nothing
    assert gc.get_freeze_count() >= frozen  # the second hold keeps it all
    second.release()
    assert gc.get_freeze_count() == 0


def test_renewing_a_hold_freezes_what_was_made_since() -> None:
    hold = collector.FreezeHold()
    hold.renew()
    before = gc.get_freeze_count()
    later = [[n] for n in range(1_000)]
    hold.renew()
    assert gc.get_freeze_count() >= before + len(later)
    hold.release()


def test_collecting_less_gives_back_the_threshold_and_the_heap() -> None:
    threshold = gc.get_threshold()
    with collector.collecting_less(50_000):
        assert gc.get_threshold()[0] == 50_000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == threshold
