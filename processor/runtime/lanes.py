"""Key-ordered lanes and the in-flight cap (backpressure).

Per-key order (SPEC §7): at most one record per key is running; later records of that key wait
in the key's FIFO and start, in order, when the one before them finishes. Records of different
keys run concurrently. Every record counts toward the direction's in-flight total (running or
waiting), and `Backpressure` says when the source partitions must pause (total at the cap) and
when they may resume (below `resume_below` * cap).

Pure bookkeeping: `submit` and `finish` never block; starting an item is the `start` callback's
job (the worker creates an asyncio task there).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class KeyLanes(Generic[T]):
    """One running item per key, the rest queued per key in arrival order."""

    def __init__(self, start: Callable[[T], None]) -> None:
        self._start = start
        self._lanes: dict[Hashable, collections.deque[T]] = {}
        self._count = 0

    def submit(self, key: Hashable, item: T) -> bool:
        """Add an item; it starts now when its key is idle. Returns whether it started."""
        self._count += 1
        lane = self._lanes.get(key)
        if lane is None:
            self._lanes[key] = collections.deque([item])
            self._start(item)
            return True
        lane.append(item)
        return False

    def finish(self, key: Hashable) -> T | None:
        """The running item of `key` ended; starts and returns the next one of that key, if any."""
        lane = self._lanes.get(key)
        if not lane:
            return None
        lane.popleft()
        self._count -= 1
        if not lane:
            del self._lanes[key]
            return None
        nxt = lane[0]
        self._start(nxt)
        return nxt

    def drop_waiting(self, predicate: Callable[[T], bool]) -> list[T]:
        """Remove waiting (not running) items that match; they will never start."""
        dropped: list[T] = []
        for lane in self._lanes.values():
            running, *waiting = lane
            keep = [item for item in waiting if not predicate(item)]
            if len(keep) != len(waiting):
                dropped.extend(item for item in waiting if predicate(item))
                lane.clear()
                lane.append(running)
                lane.extend(keep)
        self._count -= len(dropped)
        return dropped

    def running(self) -> list[T]:
        return [lane[0] for lane in self._lanes.values()]

    @property
    def in_flight(self) -> int:
        """Items running or waiting."""
        return self._count

    @property
    def keys(self) -> int:
        return len(self._lanes)


class Backpressure:
    """Pause at `cap` records in flight; resume below `resume_below` * cap (hysteresis)."""

    __slots__ = ("cap", "paused", "resume_at")

    def __init__(self, cap: int, resume_below: float) -> None:
        if cap < 1:
            raise ValueError("the in-flight cap must be at least 1")
        self.cap = cap
        self.resume_at = max(cap * resume_below, 1.0)
        """Resume once in-flight is strictly below this."""
        self.paused = False

    def update(self, in_flight: int) -> bool | None:
        """True: pause now; False: resume now; None: no change."""
        if not self.paused and in_flight >= self.cap:
            self.paused = True
            return True
        if self.paused and in_flight < self.resume_at:
            self.paused = False
            return False
        return None
