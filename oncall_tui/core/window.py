"""Counting events in a sliding time window: how storms are recognised."""

from __future__ import annotations

from collections import deque


class SlidingCount:
    """How many events were added within the last ``window_s`` seconds (monotonic times)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._events: deque[tuple[float, int]] = deque()

    def add(self, count: int, now: float) -> None:
        if count:
            self._events.append((now, count))

    def total(self, now: float) -> int:
        while self._events and now - self._events[0][0] > self.window_s:
            self._events.popleft()
        return sum(count for _, count in self._events)
