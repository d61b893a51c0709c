"""CordialSink throughput against the Cordial emulator answering after a fixed latency.

    python bench/http_sink.py [--latency-ms 20] [--concurrency 50 200] [--seconds 5]
                              [--modes sink raw-aiohttp sink-httpx-aiohttp sink-httpcore] [--json-out FILE]

The emulator runs in its own process (`cordial-bridge emulate cordial`), so client and server do
not share a GIL. Modes:
  sink                CordialSink as the runtime builds it (aiohttp directly, AIMD limit, metrics)
  raw-aiohttp         a bare aiohttp loop: the client-side ceiling, to see what the sink costs
  sink-httpx-aiohttp  CordialSink through httpx on the httpx-aiohttp transport (the other design)
  sink-httpcore       CordialSink through httpx's default transport (SPEC §1's slow case)
Prints requests/s per mode and concurrency. On a 2-core machine client and server compete for CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from prometheus_client import CollectorRegistry

from processor.config.secrets import Secret
from processor.config.settings import CordialSettings, HttpSettings, SegmentSettings
from processor.inbound.requests import CordialRequest
from processor.ops.metrics import BridgeMetrics
from processor.outcomes import Sent
from processor.sinks.cordial import CordialSink
from processor.sinks.segment import SegmentSink

API_KEY = "bench-key"
REQUEST = CordialRequest(
    action="createContactactivity",
    body={
        "segmentIdKey": "segment_id",
        "segmentId": "user-1",
        "userIdentities": {"channels.email.address": "user-1@example.com"},
        "action": "Video Played",
        "time": "2026-03-14T09:26:53.000Z",
        "properties": {"title": "t", "n": 1},
        "context": {"ip": "10.0.0.1"},
    },
)
SEGMENT_MESSAGE: dict[str, object] = {
    "type": "track",
    "event": "Email Opened",
    "timestamp": "2021-10-22T16:11:48.000Z",
    "properties": {"campaign_id": "5f3c", "email_id": "61731a", "channel": "email", "cID": "abc"},
    "context": {"library": {"name": "cordial-bridge", "version": "0.1.0"}, "source": "cordial"},
    "integrations": {"Cordial": False, "Cordial (Actions)": False},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def emulator(latency_ms: float, kind: str = "cordial") -> Iterator[str]:
    port = free_port()
    exe = Path(sys.executable).with_name("cordial-bridge")
    command = [str(exe), "emulate", kind, "--port", str(port), "--latency-ms", str(latency_ms)]
    env = {**os.environ, "CORDIAL_API_KEY": API_KEY, "SEGMENT_WRITE_KEY": API_KEY}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} emulator did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


async def drive(
    send: Callable[[], Awaitable[bool]], concurrency: int, seconds: float
) -> tuple[int, int, float]:
    """Run `concurrency` loops for `seconds` after a 1 s warm-up.

    Returns (ok, failed, client CPU seconds), all counted after the warm-up.
    """
    counting = False
    stop = False
    ok = failed = 0

    async def loop() -> None:
        nonlocal ok, failed
        while not stop:
            success = await send()
            if counting:
                if success:
                    ok += 1
                else:
                    failed += 1

    tasks = [asyncio.create_task(loop()) for _ in range(concurrency)]
    await asyncio.sleep(1.0)
    counting = True
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu
    counting = False
    stop = True
    await asyncio.gather(*tasks)
    return ok, failed, cpu


async def bench_sink(url: str, concurrency: int, seconds: float, *, mode: str) -> tuple[int, int, float]:
    http = HttpSettings(max_concurrency=concurrency, min_concurrency=concurrency)
    settings = CordialSettings(endpoint=url, api_key=Secret(API_KEY), http=http)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport: httpx.AsyncBaseTransport | None = None
    if mode == "sink-httpcore":
        transport = httpx.AsyncHTTPTransport(limits=limits)
    elif mode == "sink-httpx-aiohttp":
        transport = AiohttpTransport(limits=limits)
    sink = CordialSink(settings, transport=transport, metrics=BridgeMetrics(CollectorRegistry()))
    try:

        async def send() -> bool:
            return isinstance(await sink.send(REQUEST), Sent)

        return await drive(send, concurrency, seconds)
    finally:
        await sink.aclose()


async def bench_raw(url: str, concurrency: int, seconds: float) -> tuple[int, int, float]:
    headers = {"x-api-key": API_KEY, "Accept": "application/json", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url=url, connector=connector, headers=headers) as session:

        async def send() -> bool:
            async with session.post(REQUEST.path, data=orjson.dumps(REQUEST.body)) as response:
                await response.read()
                return 200 <= response.status < 300

        return await drive(send, concurrency, seconds)


async def bench_segment(url: str, in_flight: int, seconds: float) -> tuple[int, int, float]:
    """SegmentSink with `in_flight` concurrent senders (the runtime's max_in_flight plays this role)."""
    settings = SegmentSettings(endpoint=url, write_key=Secret(API_KEY))
    sink = SegmentSink(settings, metrics=BridgeMetrics(CollectorRegistry()))
    counter = iter(range(1 << 62))
    try:

        async def send() -> bool:
            n = next(counter)
            message = dict(SEGMENT_MESSAGE, anonymousId=f"c{n % 5000}", messageId=f"bench-{n}")
            return isinstance(await sink.send(message), Sent)

        return await drive(send, in_flight, seconds)
    finally:
        await sink.aclose()


def run_one(mode: str, url: str, concurrency: int, seconds: float) -> tuple[int, int, float]:
    coro: Coroutine[Any, Any, tuple[int, int, float]]
    if mode == "segment":
        coro = bench_segment(url, concurrency, seconds)
    elif mode == "raw-aiohttp":
        coro = bench_raw(url, concurrency, seconds)
    else:
        coro = bench_sink(url, concurrency, seconds, mode=mode)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--modes", nargs="*", default=["sink", "raw-aiohttp"])
    parser.add_argument(
        "--segment-in-flight",
        type=int,
        nargs="*",
        default=[2000],
        help="also run SegmentSink with this many messages in flight (none: skip)",
    )
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    results: list[dict[str, object]] = []
    with emulator(args.latency_ms) as url:
        print(f"Cordial emulator at {url}, latency {args.latency_ms:g} ms, {args.seconds:g} s per run")
        for mode in args.modes:
            for concurrency in args.concurrency:
                ok, failed, cpu = run_one(mode, url, concurrency, args.seconds)
                rate = ok / args.seconds
                cpu_us = cpu / max(ok + failed, 1) * 1e6
                ceiling = concurrency / (args.latency_ms / 1000) if args.latency_ms else float("inf")
                print(
                    f"{mode:<18} concurrency {concurrency:>4}: {rate:>8.0f} requests/s"
                    f"  client CPU {cpu_us:>5.0f} us/request"
                    f"  (failed {failed}; latency-bound ceiling {ceiling:.0f}/s)"
                )
                results.append(
                    {
                        "mode": mode,
                        "concurrency": concurrency,
                        "requests_per_s": round(rate),
                        "client_cpu_us_per_request": round(cpu_us),
                        "failed": failed,
                    }
                )
    if args.segment_in_flight:
        with emulator(args.latency_ms, "segment") as url:
            print(f"Segment emulator at {url}, latency {args.latency_ms:g} ms")
            for in_flight in args.segment_in_flight:
                ok, failed, cpu = run_one("segment", url, in_flight, args.seconds)
                rate = ok / args.seconds
                cpu_us = cpu / max(ok + failed, 1) * 1e6
                print(
                    f"{'segment':<18} in flight {in_flight:>5}: {rate:>8.0f} messages/s"
                    f"  client CPU {cpu_us:>5.1f} us/message  (failed {failed})"
                )
                results.append(
                    {
                        "mode": "segment",
                        "in_flight": in_flight,
                        "messages_per_s": round(rate),
                        "client_cpu_us_per_message": round(cpu_us, 1),
                        "failed": failed,
                    }
                )
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
