"""Per-partition offset tracking: the commit point over records that finish out of order.

Key lanes let a later record of one partition finish before an earlier one, so commits cannot
simply follow completions. A tracker remembers every dispatched offset that is not finished;
the commit point (a `next_offset`) is the lowest unfinished offset, or the last dispatched
offset + 1 when everything is finished. It never moves backwards.

Nothing here blocks or does I/O; the worker owns one tracker per assigned partition and drops
it after the final commit on revoke.
"""

from __future__ import annotations

import collections


class OffsetTracker:
    """Unfinished offsets of one partition, dispatched in increasing order."""

    __slots__ = ("_committed", "_done", "_last_seen", "_pending")

    def __init__(self) -> None:
        self._pending: collections.deque[int] = collections.deque()
        self._done: set[int] = set()
        self._last_seen: int | None = None
        self._committed: int | None = None

    def add(self, offset: int) -> None:
        """A record was dispatched. Offsets must increase; a repeat or older one is a caller bug."""
        if self._last_seen is not None and offset <= self._last_seen:
            raise ValueError(f"offset {offset} is not after the last dispatched offset {self._last_seen}")
        self._last_seen = offset
        self._pending.append(offset)

    def finish(self, offset: int) -> None:
        """A dispatched record's outcome is durable. Unknown offsets are ignored (already dropped)."""
        if not self._pending or offset < self._pending[0] or offset in self._done:
            return
        if offset == self._pending[0]:
            self._pending.popleft()
            while self._pending and self._pending[0] in self._done:
                self._done.discard(self._pending.popleft())
        else:
            self._done.add(offset)

    @property
    def unfinished(self) -> int:
        """Dispatched records whose outcome is not durable yet."""
        return len(self._pending) - len(self._done)

    @property
    def last_seen(self) -> int | None:
        return self._last_seen

    def commit_point(self) -> int | None:
        """The `next_offset` that may be committed now (None before any record was seen)."""
        if self._pending:
            point = self._pending[0]
        elif self._last_seen is not None:
            point = self._last_seen + 1
        else:
            return None
        if self._committed is not None and point < self._committed:
            return self._committed
        return point

    def committable(self) -> int | None:
        """The commit point when it moved past the last committed one, else None."""
        point = self.commit_point()
        if point is None or (self._committed is not None and point <= self._committed):
            return None
        return point

    def mark_committed(self, next_offset: int) -> None:
        """Record a successful commit; a lower value than already committed is ignored."""
        if self._committed is None or next_offset > self._committed:
            self._committed = next_offset

    @property
    def committed(self) -> int | None:
        return self._committed
