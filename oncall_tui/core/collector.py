"""What the garbage collector scans while a long computation makes objects by the hundred thousand.

CPython collects its youngest objects every 700 allocations and, now and then, scans every
object alive. A computation that makes objects by the hundred thousand and either keeps them (a
replay's state) or frees them all by reference counting (a batch's transaction) pays for scans
that find nothing to free, and each full scan grows with the heap: a replay of a 100,000-event
incident spent 1.7-2.3 s of a 4.8-6.4 s jump to its end in 1,011 collections.

Three tools, all for the whole process (the collector is one):

- :func:`paused`: no automatic collection while a block runs, and what it made left to the
  oldest generation. For a block that keeps what it makes, where a collection could only move
  objects between generations.
- :class:`FreezeHold`: objects alive now are left out of every later collection
  (:func:`gc.freeze`), until the hold is released. Reference counting still frees them as ever;
  only a cycle among them waits for the release to be collected. Holds of different owners (a
  replay open, a batch running) are counted, and the heap is given back to the collector when
  the last one is released.
- :func:`collecting_less`: for a block whose objects are freed as it goes (a batch ingest),
  what existed before it frozen, and young collections rarer.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_enabled_before_pause = True
_holds = 0


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (nested and concurrent blocks included).

    When the last one ends, what it made joins the collector's oldest generation unscanned
    (frozen and given back at once, or kept frozen while a :class:`FreezeHold` is held): it was
    made to be kept, and the first young collection after the block would otherwise go over
    all of it to free nothing (half a second after a 100,000-event export). Then the collector
    is as it was."""
    global _pauses, _enabled_before_pause
    with _lock:
        if _pauses == 0:
            _enabled_before_pause = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0:
                gc.freeze()
                if _holds == 0:
                    gc.unfreeze()
                if _enabled_before_pause:
                    gc.enable()


class FreezeHold:
    """One owner's hold on the frozen heap: :meth:`renew` freezes what is alive now (taking the
    hold if not held), :meth:`release` gives it up. Releasing twice, or without a hold, is
    nothing."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held = False

    def renew(self) -> None:
        global _holds
        with _lock:
            gc.freeze()
            if not self.held:
                self.held = True
                _holds += 1

    def release(self) -> None:
        global _holds
        with _lock:
            if not self.held:
                return
            self.held = False
            _holds -= 1
            if _holds == 0:
                gc.unfreeze()


@contextmanager
def collecting_less(young_every: int) -> Iterator[None]:
    """For a block whose objects are freed by reference counting as it goes (batches): the
    objects alive before it are frozen out of the collector's sight (given back after), and the
    youngest generation is collected only past ``young_every`` objects (Python's default is
    700), so cycles made meanwhile are still collected."""
    hold = FreezeHold()
    young, *older = gc.get_threshold()
    hold.renew()
    gc.set_threshold(max(young, young_every), *older)
    try:
        yield
    finally:
        gc.set_threshold(young, *older)
        hold.release()
