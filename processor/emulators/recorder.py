"""The inspection log: every API request an emulator received, in arrival order.

Bodies are kept as bytes and decoded only when someone looks (`GET /_emulator/received`), so
recording costs almost nothing on the hot path. Headers are never kept, so keys cannot leak.
The log is bounded (oldest entries dropped) while the counts keep growing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from processor.emulators.wire import decode_for_display

DEFAULT_MAX_ENTRIES = 100_000


class Entry:
    """One received request; `status` is filled in when the answer is decided."""

    __slots__ = ("body", "method", "path", "received_at", "seq", "status")

    def __init__(self, seq: int, method: str, path: str, body: bytes) -> None:
        self.seq = seq
        self.method = method
        self.path = path
        self.body = body
        self.received_at = time.time()
        self.status: int | None = None


class Recorder:
    """Bounded, ordered log of API requests with per-path counts."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        redact: Callable[[object], object] | None = None,
    ) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._redact = redact
        self.count = 0
        self.by_path: dict[str, int] = {}

    def begin(self, method: str, path: str, body: bytes) -> Entry:
        self.count += 1
        self.by_path[path] = self.by_path.get(path, 0) + 1
        entry = Entry(self.count, method, path, body)
        self._entries.append(entry)
        return entry

    def reset(self) -> None:
        self._entries.clear()
        self.count = 0
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
