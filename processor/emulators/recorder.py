"""The inspection log: every API request an emulator received, in arrival order.

Bodies are kept as bytes and decoded only when someone looks (`GET /_emulator/received`), so
recording costs almost nothing on the hot path. Headers are never kept, so keys cannot leak.
The log is bounded by entry count and by body bytes (oldest entries dropped first, so a run of
475 KB Segment batches cannot exhaust memory) while the counts keep growing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from processor.emulators.wire import decode_for_display

DEFAULT_MAX_ENTRIES = 100_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class Entry:
    """One received request; `status` is filled in when the answer is decided."""

    __slots__ = ("body", "dropped", "method", "path", "received_at", "seq", "status")

    def __init__(self, seq: int, method: str, path: str, body: bytes) -> None:
        self.seq = seq
        self.method = method
        self.path = path
        self.body = body
        self.received_at = time.time()
        self.status: int | None = None
        self.dropped = False


class Recorder:
    """Bounded, ordered log of API requests with per-path counts."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        redact: Callable[[object], object] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._entries: deque[Entry] = deque()
        self._max_entries = max(1, max_entries)
        self._max_bytes = max_bytes
        self._bytes = 0
        self._redact = redact
        self.count = 0
        self.dropped = 0
        self.by_path: dict[str, int] = {}

    def begin(self, method: str, path: str, body: bytes) -> Entry:
        self.count += 1
        self.by_path[path] = self.by_path.get(path, 0) + 1
        entry = Entry(self.count, method, path, body)
        self._entries.append(entry)
        self._bytes += len(body)
        self._trim()
        return entry

    def set_body(self, entry: Entry, body: bytes) -> None:
        """Replace what is shown for `entry` (e.g. the decompressed form of a gzip body)."""
        if not entry.dropped:
            self._bytes += len(body) - len(entry.body)
        entry.body = body
        self._trim()

    def _trim(self) -> None:
        entries = self._entries
        while len(entries) > 1 and (len(entries) > self._max_entries or self._bytes > self._max_bytes):
            old = entries.popleft()
            old.dropped = True
            self.dropped += 1
            self._bytes -= len(old.body)

    def reset(self) -> None:
        for entry in self._entries:
            entry.dropped = True
        self._entries.clear()
        self._bytes = 0
        self.count = 0
        self.dropped = 0
        self.by_path = {}

    def view(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        """The `/_emulator/received` answer: entries with seq > since, oldest first."""
        entries = self._entries
        start = 0
        if entries and since >= entries[0].seq:
            start = since - entries[0].seq + 1  # seq numbers are contiguous within the deque
        selected: list[Entry] = []
        for i in range(start, len(entries)):
            if limit is not None and len(selected) >= limit:
                break
            selected.append(entries[i])
        return {
            "count": self.count,
            "dropped": self.dropped,
            "by_path": dict(self.by_path),
            "requests": [self._render(e) for e in selected],
        }

    def _render(self, entry: Entry) -> dict[str, object]:
        body = decode_for_display(entry.body)
        if self._redact is not None:
            body = self._redact(body)
        return {
            "seq": entry.seq,
            "method": entry.method,
            "path": entry.path,
            "body": body,
            "received_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(entry.received_at))
            + f".{int(entry.received_at * 1000) % 1000:03d}Z",
            "status": entry.status,
        }
