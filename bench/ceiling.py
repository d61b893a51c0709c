"""The emulator's ceiling: the emulator alone, driven at full rate by an aiohttp load generator.

Same concurrency as the processor's HTTP cap, same bodies as the processor sends (translated from
the benchmark corpus): inbound, Cordial ingest calls; outbound, Segment `/v1/batch` requests of
`batch` messages each (the processor's average batch size in the same run). Bounded by a request
count and a time limit. Runs on uvloop in this process; the emulator has its own process.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence

import aiohttp
import orjson

from bench.feed import Event
from bench.procs import CORDIAL_KEY, SEGMENT_KEY
from processor.config.settings import InboundSettings, OutboundSettings
from processor.inbound.requests import InboundTranslation
from processor.inbound.translate import InboundTranslator
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator

Request = tuple[str, bytes]


def cordial_requests(events: Sequence[Event]) -> list[Request]:
    translator = InboundTranslator(InboundSettings())
    out: list[Request] = []
    for event in events:
        result = translator.translate(orjson.loads(event.value))
        if isinstance(result, InboundTranslation):
            out += [(r.path, orjson.dumps(dict(r.body))) for r in result.requests]
    return out


def segment_batches(events: Sequence[Event], batch: int) -> list[Request]:
    translator = OutboundTranslator(OutboundSettings())
    messages = []
    for event in events:
        result = translator.translate(orjson.loads(event.value))
        if isinstance(result, OutboundTranslation):
            messages.append(result.message)
    batch = max(1, batch)
    return [
        ("/v1/batch", orjson.dumps({"batch": messages[i : i + batch]}))
        for i in range(0, len(messages) - batch + 1, batch)
    ] or [("/v1/batch", orjson.dumps({"batch": messages[:batch]}))]


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop when installed (as the worker uses), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is installed with the package
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def _drive(
    base_url: str, requests: Sequence[Request], headers: dict[str, str], concurrency: int, seconds: float
) -> tuple[int, int, float]:
    counter = itertools.count()
    ok = failed = 0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(base_url=base_url, connector=connector, headers=headers) as session:
        deadline = time.monotonic() + seconds

        async def one() -> None:
            nonlocal ok, failed
            while time.monotonic() < deadline:
                path, body = requests[next(counter) % len(requests)]
                async with session.post(path, data=body) as response:
                    await response.read()
                    if response.status < 300:
                        ok += 1
                    else:
                        failed += 1

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return ok, failed, elapsed


def drive(
    direction: str, base_url: str, requests: Sequence[Request], *, concurrency: int, seconds: float
) -> dict[str, float]:
    """Requests/s the emulator answers (2xx only) at `concurrency` for about `seconds`."""
    if direction == "inbound":
        headers = {"x-api-key": CORDIAL_KEY, "Content-Type": "application/json"}
    else:
        headers = {
            "Content-Type": "application/json",
            "Authorization": aiohttp.BasicAuth(SEGMENT_KEY).encode(),
        }
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        ok, failed, elapsed = runner.run(_drive(base_url, requests, headers, concurrency, seconds))
    return {
        "requests": ok,
        "failed": failed,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(ok / elapsed, 1),
    }
