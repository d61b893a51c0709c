"""The auth gate of one direction (SPEC §5): a 401/403 pauses everything until `checkAuth` passes.

`trip()` closes the gate and starts a prober that calls `check_auth()` with exponential backoff
(`initial_s` doubling up to `max_s`). Record tasks that met `AuthFailed` wait in `wait_open()`
and then send the same request again, so nothing is dead-lettered and nothing is committed past
them. `on_change(paused)` tells the worker to pause or resume its partitions and to update
readiness and the metric. `wait_open()` blocks; `trip()` never does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from processor.outcomes import AuthFailed, Outcome, Sent

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class AuthGate:
    """Open while the API accepts the key; closed (and probing) after an AuthFailed."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[Outcome]],
        *,
        initial_s: float,
        max_s: float,
        on_change: Callable[[bool], None],
        sleep: Sleep = asyncio.sleep,
        direction: str = "-",
    ) -> None:
        self._probe = probe
        self._initial_s = max(initial_s, 0.0)
        self._max_s = max(max_s, self._initial_s)
        self._on_change = on_change
        self._sleep = sleep
        self._direction = direction
        self._open = asyncio.Event()
        self._open.set()
        self._prober: asyncio.Task[None] | None = None
        self.probes = 0

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def trip(self, failure: AuthFailed) -> bool:
        """Close the gate (if open) and start probing. Returns True when this call closed it."""
        if not self._open.is_set():
            return False
        self._open.clear()
        log.error(
            "direction_paused_auth", direction=self._direction, status=failure.status, error=failure.message
        )
        self._on_change(True)
        self._prober = asyncio.get_running_loop().create_task(self._probe_until_open())
        return True

    async def wait_open(self) -> None:
        await self._open.wait()

    async def _probe_until_open(self) -> None:
        delay = self._initial_s
        while True:
            await self._sleep(delay)
            self.probes += 1
            try:
                outcome = await self._probe()
            except Exception as exc:  # a probe must never kill the gate
                log.warning("auth_probe_error", direction=self._direction, error=repr(exc))
                outcome = None
            if isinstance(outcome, Sent):
                break
            log.info("auth_probe_failed", direction=self._direction, next_probe_s=min(delay * 2, self._max_s))
            delay = max(min(delay * 2, self._max_s), 0.01)
        log.warning("direction_resumed_auth", direction=self._direction, probes=self.probes)
        self._on_change(False)
        self._open.set()

    async def aclose(self) -> None:
        prober, self._prober = self._prober, None
        if prober is not None and not prober.done():
            prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prober
