"""One logical request, tried up to `in_process_attempts` times under the direction's AIMD limit.

Shared by both sinks. Each attempt takes a slot from the limiter, records the HTTP metrics, and
goes through an `Exchange` (which classifies the result with `sinks/http.py`); a retryable
answer waits (jittered backoff, or `Retry-After` when the server sent one) outside the slot and
tries again. A `Retry-After` longer than
`backoff_max_s` ends the in-process attempts at once: the retry topics are the place to wait that
long. `send()` may block for the waits; it never raises for HTTP failures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Awaitable, Callable, Mapping

import httpx
import structlog
from prometheus_client import Counter, Histogram

from processor.config.settings import HttpSettings
from processor.errors import ErrorClass
from processor.ops.metrics import BridgeMetrics, status_class
from processor.outcomes import Outcome, Retry, Sent
from processor.sinks.backoff import backoff_delay
from processor.sinks.concurrency import AimdLimiter, Signal
from processor.sinks.exchange import Exchange, build_exchange

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Content = bytes | Callable[[], bytes] | None


@dataclasses.dataclass(frozen=True, slots=True)
class Timing:
    """Injectable time sources: tests pass a fake `sleep`, a fixed `now` and a fixed `rand`."""

    sleep: Sleep = asyncio.sleep
    now: Callable[[], float] = time.time
    rand: Callable[[], float] = random.random


class Requester:
    """Sends requests through `exchange`, limited by `limiter`, counted in `metrics` for `direction`."""

    def __init__(
        self,
        exchange: Exchange,
        settings: HttpSettings,
        *,
        direction: str,
        limiter: AimdLimiter,
        metrics: BridgeMetrics | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.exchange = exchange
        self.settings = settings
        self.direction = direction
        self.limiter = limiter
        self.metrics = metrics
        self._timing = timing or Timing()
        self._labelled: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self._in_flight = metrics.http_in_flight.labels(direction) if metrics is not None else None

    async def send(
        self,
        method: str,
        url: str,
        *,
        action: str,
        content: Content = None,
        headers: Mapping[str, str] | None = None,
        attempts: int | None = None,
    ) -> Outcome:
        """The final Outcome after at most `attempts` tries (default: `in_process_attempts`).

        `content` may be a function, called once per attempt (a body that carries a send time).
        """
        limit = max(1, self.settings.in_process_attempts if attempts is None else attempts)
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(method, url, action=action, content=content, headers=headers)
            if isinstance(outcome, Sent):
                return outcome if attempt == 1 else dataclasses.replace(outcome, attempts=attempt)
            if not isinstance(outcome, Retry):
                return outcome
            outcome = dataclasses.replace(outcome, attempts=attempt)
            if attempt >= limit:
                return outcome
            if outcome.retry_after is not None:
                if outcome.retry_after > self.settings.backoff_max_s:
                    return outcome
                delay = outcome.retry_after
            else:
                delay = backoff_delay(
                    attempt,
                    base_s=self.settings.backoff_base_s,
                    max_s=self.settings.backoff_max_s,
                    rand=self._timing.rand,
                )
            log.debug(
                "http_attempt_retrying",
                direction=self.direction,
                action=action,
                attempt=attempt,
                error_class=outcome.error_class.value,
                status=outcome.status,
                delay_s=round(delay, 3),
                error=outcome.message,
            )
            await self._timing.sleep(delay)

    async def aclose(self) -> None:
        await self.exchange.aclose()

    async def _attempt(
        self,
        method: str,
        url: str,
        *,
        action: str,
        content: Content,
        headers: Mapping[str, str] | None,
    ) -> Outcome:
        body = content() if callable(content) else content
        in_flight = self._in_flight
        if in_flight is None:
            async with self.limiter.slot() as permit:
                outcome = await self.exchange(method, url, action=action, content=body, headers=headers)
                permit.signal = _signal(outcome)
            return outcome
        async with self.limiter.slot() as permit:
            in_flight.inc()
            started = time.perf_counter()
            try:
                outcome = await self.exchange(method, url, action=action, content=body, headers=headers)
            finally:
                in_flight.dec()
            permit.signal = _signal(outcome)
        elapsed = time.perf_counter() - started
        counter, histogram = self._children(action, _status_label(outcome))
        counter.inc()
        histogram.observe(elapsed)
        return outcome

    def _children(self, action: str, status: str) -> tuple[Counter, Histogram]:
        """The labelled metric children, looked up once per (action, status) rather than per request."""
        key = (action, status)
        children = self._labelled.get(key)
        if children is None:
            assert self.metrics is not None
            children = (
                self.metrics.http_requests.labels(self.direction, action, status),
                self.metrics.http_request_duration.labels(self.direction, action, status),
            )
            self._labelled[key] = children
        return children


def _status_label(outcome: Outcome) -> str:
    """`2xx`…`5xx` for an answer; `timeout`/`connection` when there was none."""
    status = getattr(outcome, "status", None)
    if status is None and isinstance(outcome, Retry):
        return outcome.error_class.value
    return status_class(status)


def _signal(outcome: Outcome) -> Signal:
    """429 and timeouts say "too much"; a success says "room for more"; the rest say nothing."""
    if isinstance(outcome, Sent):
        return Signal.SUCCESS
    if isinstance(outcome, Retry) and outcome.error_class in (ErrorClass.HTTP_429, ErrorClass.TIMEOUT):
        return Signal.OVERLOAD
    return Signal.NEUTRAL


def build_requester(
    settings: HttpSettings,
    *,
    base_url: str,
    headers: Mapping[str, str],
    direction: str,
    metrics: BridgeMetrics | None,
    timing: Timing,
    client: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    limiter: AimdLimiter | None = None,
) -> Requester:
    """The wiring both sinks share: an exchange (aiohttp, or httpx when given a client/transport),
    the direction's AIMD limiter (reporting to the concurrency gauge) and the retrying requester."""
    exchange = build_exchange(
        settings, base_url=base_url, headers=headers, client=client, transport=transport, now=timing.now
    )
    if limiter is None:
        gauge = metrics.concurrency_limit.labels(direction) if metrics is not None else None
        limiter = AimdLimiter.from_settings(settings, on_change=gauge.set if gauge else None)
    return Requester(exchange, settings, direction=direction, limiter=limiter, metrics=metrics, timing=timing)
