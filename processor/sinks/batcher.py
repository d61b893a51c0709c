"""Segment batch bodies, built from pre-serialised messages so their size is known exactly.

A body is `{"batch":[m1,m2,…],"sentAt":"YYYY-MM-DDTHH:MM:SS.mmmZ"}` with no whitespace: the
envelope has a fixed size, so a batch's serialised size is the envelope plus the messages plus
one comma between each two. `BatchBuilder` keeps a batch inside a count and a byte limit. Pure: no
I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, Generic, TypeVar

import orjson

T = TypeVar("T")

MAX_BATCH_MESSAGES: Final = 2500
"""Segment's own limit on messages per batch."""
MAX_BATCH_BYTES: Final = 475_000
"""Segment refuses requests over 500 KB; stay under 475 KB."""

_OPEN: Final = b'{"batch":['
_CLOSE: Final = b'],"sentAt":'
_SENT_AT_CHARS: Final = len('"2000-01-01T00:00:00.000Z"')
ENVELOPE_BYTES: Final = len(_OPEN) + len(_CLOSE) + _SENT_AT_CHARS + 1


def format_sent_at(now: float) -> str:
    """Unix time → `YYYY-MM-DDTHH:MM:SS.mmmZ` (always 24 characters)."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def encode_batch(messages: Sequence[bytes], sent_at: str) -> bytes:
    """The request body for already-serialised messages."""
    return b"".join((_OPEN, b",".join(messages), _CLOSE, orjson.dumps(sent_at), b"}"))


def batch_size(message_sizes: Sequence[int]) -> int:
    """Serialised size of a batch of messages of these sizes (equals `len(encode_batch(...))`)."""
    return ENVELOPE_BYTES + sum(message_sizes) + max(0, len(message_sizes) - 1)


class BatchBuilder(Generic[T]):
    """Collects items with known serialised sizes until the next one would break a limit."""

    def __init__(self, *, max_messages: int, max_bytes: int) -> None:
        self.max_messages = max(1, min(max_messages, MAX_BATCH_MESSAGES))
        self.max_bytes = min(max_bytes, MAX_BATCH_BYTES)
        if self.max_bytes <= ENVELOPE_BYTES:
            raise ValueError(f"batch_max_bytes must exceed the {ENVELOPE_BYTES}-byte envelope")
        self._items: list[T] = []
        self._bytes = ENVELOPE_BYTES

    @property
    def max_message_bytes(self) -> int:
        """The biggest message that fits a batch on its own."""
        return self.max_bytes - ENVELOPE_BYTES

    @property
    def count(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """Serialised size of the batch as it stands."""
        return self._bytes

    @property
    def full(self) -> bool:
        return len(self._items) >= self.max_messages

    def fits(self, message_bytes: int) -> bool:
        """Whether a message of this size can join the current batch."""
        extra = message_bytes + (1 if self._items else 0)
        return not self.full and self._bytes + extra <= self.max_bytes

    def add(self, item: T, message_bytes: int) -> None:
        if not self.fits(message_bytes):
            raise ValueError("message does not fit the current batch; take() it first")
        self._bytes += message_bytes + (1 if self._items else 0)
        self._items.append(item)

    def take(self) -> list[T]:
        """The collected items; the builder starts a new, empty batch."""
        items, self._items, self._bytes = self._items, [], ENVELOPE_BYTES
        return items
