"""An adaptive (AIMD) concurrency limit shared by all requests of one direction (SPEC §5).

Additive increase: every success adds `1/limit`, so the limit grows by one per "window" of
successful requests. Multiplicative decrease: a 429 or a timeout multiplies it by
`decrease_factor`. Only a request that started after the last decrease may cause another one,
so a burst of 429s answering requests sent together halves the limit once, not fifty times.

`acquire()` may block (until a slot is free); `release()` never blocks.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from processor.config.settings import HttpSettings


class Signal(enum.Enum):
    """What a finished request says about the server's capacity."""

    SUCCESS = "success"
    OVERLOAD = "overload"
    NEUTRAL = "neutral"
    """Neither: an error that says nothing about load (a 400, a 401, a cancelled request)."""


@dataclass(slots=True)
class Permit:
    """One slot; remembers the limit's generation when it was taken."""

    generation: int
    signal: Signal = Signal.NEUTRAL


class AimdLimiter:
    """Concurrency limit in `[min_limit, max_limit]`, starting at `initial` (default: max)."""

    def __init__(
        self,
        *,
        min_limit: int = 1,
        max_limit: int = 64,
        initial: int | None = None,
        decrease_factor: float = 0.5,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        if min_limit < 1 or max_limit < min_limit:
            raise ValueError(f"need 1 <= min_limit <= max_limit, got {min_limit}, {max_limit}")
        if not 0 < decrease_factor < 1:
            raise ValueError("decrease_factor must be between 0 and 1")
        self.min_limit = min_limit
        self.max_limit = max_limit
        self._decrease_factor = decrease_factor
        start = max_limit if initial is None else initial
        self._limit = float(min(max(start, min_limit), max_limit))
        self._in_use = 0
        self._generation = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._on_change = on_change
        self._held: dict[asyncio.Task[object] | None, list[Permit]] = {}
        if on_change is not None:
            on_change(self.limit)

    @classmethod
    def from_settings(
        cls, settings: HttpSettings, *, on_change: Callable[[int], None] | None = None
    ) -> AimdLimiter:
        return cls(
            min_limit=max(1, settings.min_concurrency),
            max_limit=max(1, settings.max_concurrency, settings.min_concurrency),
            on_change=on_change,
        )

    @property
    def limit(self) -> int:
        """The current whole-number limit."""
        return max(self.min_limit, math.floor(self._limit))

    @property
    def in_flight(self) -> int:
        return self._in_use

    async def acquire(self) -> Permit:
        """Wait for a free slot (FIFO)."""
        if self._in_use < self.limit and not self._waiters:
            self._in_use += 1
            return Permit(self._generation)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # We were handed a slot but will not use it: pass it on.
                self._in_use -= 1
                self._wake()
            else:
                self._waiters.remove(waiter)
            raise
        return Permit(self._generation)

    def release(self, permit: Permit, signal: Signal | None = None) -> None:
        """Give the slot back and adjust the limit from what the request said."""
        self._in_use -= 1
        outcome = permit.signal if signal is None else signal
        before = self.limit
        if outcome is Signal.SUCCESS:
            self._limit = min(float(self.max_limit), self._limit + 1.0 / max(self._limit, 1.0))
        elif outcome is Signal.OVERLOAD and permit.generation == self._generation:
            self._limit = max(float(self.min_limit), math.floor(self._limit * self._decrease_factor))
            self._generation += 1
        if self._on_change is not None and self.limit != before:
            self._on_change(self.limit)
        self._wake()

    def slot(self) -> _Slot:
        """`async with limiter.slot() as permit:`; set `permit.signal` before leaving."""
        return _Slot(self)

    async def __aenter__(self) -> Permit:
        """`async with limiter as permit:` — the same as `slot()`, tracked per task."""
        permit = await self.acquire()
        self._held.setdefault(asyncio.current_task(), []).append(permit)
        return permit

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = asyncio.current_task()
        stack = self._held[task]
        permit = stack.pop()
        if not stack:
            del self._held[task]
        self.release(permit, None if exc is None else Signal.NEUTRAL)

    def _wake(self) -> None:
        while self._waiters and self._in_use < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._in_use += 1
                waiter.set_result(None)


class _Slot:
    __slots__ = ("_limiter", "_permit")

    def __init__(self, limiter: AimdLimiter) -> None:
        self._limiter = limiter
        self._permit: Permit | None = None

    async def __aenter__(self) -> Permit:
        self._permit = await self._limiter.acquire()
        return self._permit

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._permit is not None
        self._limiter.release(self._permit, None if exc is None else Signal.NEUTRAL)
