"""Key-ordered lanes and the in-flight cap (backpressure).

Per-key order (SPEC §7): a key's records start in arrival order, and a record starts only when
the ones before it of its key have finished — except that it may *join* them while they are
still in a batch the sink has not sent yet (`joinable`): records of one key that share one
request reach the API in order, in that request. Records of different keys run concurrently.
Every record counts toward the direction's in-flight total (running or waiting), and
`Backpressure` says when the source partitions must pause (total at the cap) and when they may
resume (below `resume_below` * cap).

Pure bookkeeping: `submit` and `finish` never block; starting an item is the `start` callback's
job (the worker plans it and hands it to the sink, or creates an asyncio task).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


def _never(item: object) -> bool:
    return False


@dataclass(slots=True)
class _Lane(Generic[T]):
    running: list[T] = field(default_factory=list)
    """Started and not finished, oldest first (more than one only when they joined one batch)."""
    waiting: collections.deque[T] = field(default_factory=collections.deque)


class KeyLanes(Generic[T]):
    """Per key: the running items (one, or several sharing an unsent batch), the rest queued."""

    def __init__(self, start: Callable[[T], None], joinable: Callable[[T], bool] = _never) -> None:
        self._start = start
        self._joinable = joinable
        """Whether a running item is still in a batch not yet sent, so the key's next may join it."""
        self._lanes: dict[Hashable, _Lane[T]] = {}
        self._count = 0

    def submit(self, key: Hashable, item: T) -> bool:
        """Add an item; it starts now when its key is idle (or it can join). Returns whether it started."""
        self._count += 1
        lane = self._lanes.get(key)
        if lane is None:
            self._lanes[key] = _Lane([item])
            self._start(item)
            return True
        if not lane.waiting and lane.running and self._joinable(lane.running[-1]):
            lane.running.append(item)
            self._start(item)
            return True
        lane.waiting.append(item)
        return False

    def finish(self, key: Hashable, item: T | None = None) -> T | None:
        """A running item of `key` ended (`item`, default the oldest). Once none is running, the
        key's waiting items start, in order, as long as each can join the one before it. Returns
        the first item started, if any."""
        lane = self._lanes.get(key)
        if lane is None or not lane.running:
            return None
        if item is None:
            del lane.running[0]
        else:
            try:
                lane.running.remove(item)
            except ValueError:
                return None  # not running (already finished or dropped): nothing to do
        self._count -= 1
        if lane.running:
            return None
        if not lane.waiting:
            del self._lanes[key]
            return None
        first = lane.waiting.popleft()
        lane.running.append(first)
        self._start(first)
        while lane.waiting and lane.running and self._joinable(lane.running[-1]):
            nxt = lane.waiting.popleft()
            lane.running.append(nxt)
            self._start(nxt)
        return first

    def drop_waiting(self, predicate: Callable[[T], bool]) -> list[T]:
        """Remove waiting (not running) items that match; they will never start."""
        dropped: list[T] = []
        for lane in self._lanes.values():
            if any(predicate(item) for item in lane.waiting):
                keep = [item for item in lane.waiting if not predicate(item)]
                dropped.extend(item for item in lane.waiting if predicate(item))
                lane.waiting = collections.deque(keep)
        self._count -= len(dropped)
        return dropped

    def running(self) -> list[T]:
        return [item for lane in self._lanes.values() for item in lane.running]

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
