"""SegmentSink: outbound messages batched to `POST {endpoint}/v1/batch` (SPEC §4).

`send(message)` puts the message into the open batch and waits for that message's own Outcome;
`submit(message, done)` does the same without a coroutine or future per message: `done` is called
with the Outcome (or the exception of a failed delivery) once the batch is answered — the
worker's per-record fast path (a future and a task per record were ~30 % of its CPU). A message
may come pre-serialised (`bytes`: the translator already encoded it for its size check).

A batch is sent when the next message would break the count or byte limit, when it holds
`batch_max_messages`, `linger_ms` after its first message, or as soon as it stops growing
(no new message for `IDLE_FLUSH_S`): when every caller is already waiting on this batch,
lingering longer only adds latency and caps throughput at in-flight / linger. Several
batches can be in flight at once; the AIMD limit decides how many reach the wire.

Outcomes per message: a 2xx → every message `Sent`; a retryable answer → the whole batch is
retried in-process, then every message gets the same `Retry`; 401/403 → `AuthFailed` for all;
a 400/413 → the batch is bisected and resent until the message(s) Segment refuses are alone,
and only those are `Rejected` (the halves go one after the other, so the accepted messages of a
key still reach Segment in order). A message over `message_max_bytes` is `Rejected`
(`message_too_large`) without being sent.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import httpx
import orjson
import structlog

from processor.config.settings import SegmentSettings
from processor.errors import ConfigError, ErrorClass
from processor.ops.metrics import BridgeMetrics
from processor.outcomes import Outcome, Rejected
from processor.sinks.batcher import BatchBuilder, encode_batch, format_sent_at
from processor.sinks.concurrency import AimdLimiter
from processor.sinks.requester import Timing, build_requester

log = structlog.get_logger(__name__)

DIRECTION: Final = "outbound"
BATCH_PATH: Final = "/v1/batch"
BATCH_ACTION: Final = "batch"
CHECK_AUTH_ACTION: Final = "checkAuth"
BISECT_STATUSES: Final = frozenset({400, 413})
GZIP_LEVEL: Final = 6
IDLE_FLUSH_S: Final = 0.01
"""An open batch that has not grown for this long is sent without waiting out `linger_ms`."""
_GZIP_HEADERS: Final = {"Content-Encoding": "gzip"}


Done = Callable[["Outcome | BaseException"], None]
"""Called once per submitted message: its Outcome, or the exception that ended its batch."""


@dataclass(slots=True)
class _Pending:
    data: bytes
    done: Done
    settled: bool = False

    def settle(self, result: Outcome | BaseException) -> None:
        """Report the result once; a failing callback must not keep the rest of the batch waiting."""
        if self.settled:
            return
        self.settled = True
        try:
            self.done(result)
        except Exception:
            log.exception("submit_callback_failed")


def basic_auth_header(write_key: str) -> str:
    """`Basic base64(write_key + ":")`: the write key as user name, an empty password."""
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode("ascii")


class SegmentSink:
    """Batches outbound messages to Segment (aiohttp unless given a client/transport)."""

    def __init__(
        self,
        settings: SegmentSettings,
        *,
        metrics: BridgeMetrics | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
        limiter: AimdLimiter | None = None,
    ) -> None:
        if settings.write_key is None or not settings.write_key:
            raise ConfigError(
                f"no Segment write key: set the {settings.write_key_env} environment variable "
                "or segment.write_key_file"
            )
        key = settings.write_key.reveal()
        headers = {"Authorization": basic_auth_header(key), "Content-Type": "application/json"}
        self._timing = timing or Timing()
        self._requester = build_requester(
            settings.http,
            base_url=settings.endpoint,
            headers=headers,
            direction=DIRECTION,
            metrics=metrics,
            timing=self._timing,
            client=client,
            transport=transport,
            limiter=limiter,
        )
        self.limiter = self._requester.limiter
        self._gzip = settings.gzip
        self._linger_s = max(0.0, settings.linger_ms / 1000)
        self._idle_s = min(self._linger_s, IDLE_FLUSH_S)
        self._deadline = 0.0
        self._seen = 0
        self._builder: BatchBuilder[_Pending] = BatchBuilder(
            max_messages=settings.batch_max_messages, max_bytes=settings.batch_max_bytes
        )
        self._message_max = min(settings.message_max_bytes, self._builder.max_message_bytes)
        self._timer: asyncio.TimerHandle | None = None
        self.open_batch = 0
        """Number of the batch now collecting messages (one more each time a batch is sent)."""
        self.last_batch = -1
        """The batch the last submitted message joined: still open while it equals `open_batch`."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def send(self, message: Mapping[str, object] | bytes) -> Outcome:
        """Queue one message into the open batch; its own Outcome once its batch is answered."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

        def done(result: Outcome | BaseException) -> None:
            if future.done():
                return
            if isinstance(result, asyncio.CancelledError):
                future.cancel()
            elif isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        refused = self.submit(message, done)
        return refused if refused is not None else await future

    def submit(self, message: Mapping[str, object] | bytes, done: Done) -> Outcome | None:
        """Queue one message; `done(outcome)` is called when its batch is answered. A message that
        cannot be sent at all is refused at once: the Outcome is returned and `done` never called."""
        if self._closed:
            raise RuntimeError("SegmentSink is closed")
        if isinstance(message, bytes):
            data = message
        else:
            try:
                data = orjson.dumps(message)
            except orjson.JSONEncodeError as exc:
                return Rejected(ErrorClass.INVALID_MESSAGE, f"message cannot be sent as JSON: {exc}")
        if len(data) > self._message_max:
            return Rejected(
                ErrorClass.MESSAGE_TOO_LARGE,
                f"message is {len(data)} bytes serialised; the limit is {self._message_max}",
                action=BATCH_ACTION,
            )
        self._enqueue(_Pending(data, done))
        return None

    async def flush(self) -> None:
        """Send the open batch now and wait until every batch in flight is answered."""
        self._dispatch()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def check_auth(self) -> Outcome:
        """POST an empty batch: AuthFailed proves a bad write key; Segment accepts most others."""

        def body() -> bytes:
            return encode_batch((), format_sent_at(self._timing.now()))

        return await self._requester.send("POST", BATCH_PATH, action=CHECK_AUTH_ACTION, content=body)

    async def aclose(self) -> None:
        """Flush, then release the connection pool (an injected client is left open for its owner)."""
        self._closed = True
        await self.flush()
        await self._requester.aclose()

    async def __aenter__(self) -> SegmentSink:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ batching

    def _enqueue(self, item: _Pending) -> None:
        size = len(item.data)
        if not self._builder.fits(size):
            self._dispatch()
        self._builder.add(item, size)
        self.last_batch = self.open_batch
        if self._builder.full:
            self._dispatch()
        elif self._builder.count == 1:
            loop = asyncio.get_running_loop()
            self._deadline = loop.time() + self._linger_s
            self._seen = 1
            self._timer = loop.call_later(self._idle_s, self._tick)

    def _tick(self) -> None:
        """Send the open batch once it stops growing or its linger time is up; else look again."""
        self._timer = None
        count = self._builder.count
        if count == 0:
            return
        loop = asyncio.get_running_loop()
        remaining = self._deadline - loop.time()
        if count == self._seen or remaining <= 0:
            self._dispatch()
            return
        self._seen = count
        self._timer = loop.call_later(min(self._idle_s, remaining), self._tick)

    def _dispatch(self) -> None:
        """Hand the open batch to a delivery task (no-op when it is empty)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        items = self._builder.take()
        if not items:
            return
        self.open_batch += 1
        task = asyncio.get_running_loop().create_task(self._deliver(items))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, items: Sequence[_Pending]) -> None:
        try:
            await self._deliver_part(items)
        except BaseException as exc:  # a bug or a cancellation: no caller may wait forever
            for item in items:
                item.settle(exc)
            if not isinstance(exc, Exception):
                raise

    async def _deliver_part(self, items: Sequence[_Pending]) -> None:
        outcome = await self._post(items)
        if isinstance(outcome, Rejected) and outcome.status in BISECT_STATUSES:
            if len(items) > 1:
                middle = len(items) // 2
                await self._deliver_part(items[:middle])
                await self._deliver_part(items[middle:])
                return
            outcome = Rejected(
                outcome.error_class,
                f"Segment refused this message: {outcome.message}",
                status=outcome.status,
                action=BATCH_ACTION,
            )
        for item in items:
            item.settle(outcome)

    async def _post(self, items: Sequence[_Pending]) -> Outcome:
        messages = [item.data for item in items]
        headers = _GZIP_HEADERS if self._gzip else None

        def body() -> bytes:
            raw = encode_batch(messages, format_sent_at(self._timing.now()))
            return gzip.compress(raw, compresslevel=GZIP_LEVEL) if self._gzip else raw

        return await self._requester.send(
            "POST", BATCH_PATH, action=BATCH_ACTION, content=body, headers=headers
        )
