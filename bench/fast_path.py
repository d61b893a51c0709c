"""CPU per record on the worker's outbound fast path, without a broker or a network.

    python bench/fast_path.py [--events 50000] [--profile]

Feeds the bench corpus (`bench/translate.py`) as consumed Kafka messages through the real
`Worker._dispatch` → lanes → `RecordHandler.prepare` → the outbound translator → a batching
sink, whose batches are answered `Sent` on the next loop iteration (no HTTP). What it prints is
the event loop's own cost per record: the ceiling of one worker process once the broker and the
API are free. `--profile` prints a pyinstrument profile of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Message
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: `bench.*`

from bench.translate import cordial_corpus
from processor.codecs import JsonCodec
from processor.config.settings import OpsSettings, OutboundSettings, Settings
from processor.ops.logging import configure_logging
from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.outbound.translate import OutboundTranslator
from processor.outcomes import Outcome, Sent
from processor.runtime.delivery import RecordHandler
from processor.runtime.directions import Direction, plan_outbound
from processor.runtime.partitions import PartitionState
from processor.runtime.worker import Worker

TOPIC = "cordial-outbound"
BATCH = 400


class InstantBatchSink:
    """Collects submissions; every `BATCH` (or at the end) answers them all `Sent` on the next tick."""

    def __init__(self) -> None:
        self.open: list[Callable[[Outcome | BaseException], None]] = []
        self.sent = 0
        self.open_batch = 0
        self.last_batch = -1

    def submit(self, payload: Any, done: Callable[[Outcome | BaseException], None], /) -> Outcome | None:
        self.open.append(done)
        self.last_batch = self.open_batch
        if len(self.open) >= BATCH:
            self.flush()
        return None

    def flush(self) -> None:
        batch, self.open = self.open, []
        self.open_batch += 1
        asyncio.get_running_loop().call_soon(self._answer, batch)

    def _answer(self, batch: list[Callable[[Outcome | BaseException], None]]) -> None:
        ok = Sent()
        for done in batch:
            done(ok)
        self.sent += len(batch)

    async def send(self, payload: Any, /) -> Outcome:
        return Sent()

    async def check_auth(self) -> Outcome:
        return Sent()

    async def aclose(self) -> None:
        return None


def messages(n: int, partitions: int = 6) -> list[Message]:
    rng = random.Random(7)
    out = []
    now_ms = int(time.time() * 1000)
    for i, record in enumerate(cordial_corpus(n, rng)):
        out.append(
            Message(
                topic=TOPIC,
                partition=i % partitions,
                offset=i // partitions,
                key=str(record["cID"]).encode(),
                value=orjson.dumps(record),
                timestamp=(1, now_ms),
            )
        )
    return out


async def drive(worker: Worker, sink: InstantBatchSink, batch: list[Message]) -> float:
    start = time.process_time()
    for chunk_start in range(0, len(batch), 500):
        for message in batch[chunk_start : chunk_start + 500]:
            worker._dispatch(message)
        await asyncio.sleep(0)
    while worker.lanes.in_flight:
        sink.flush()
        await asyncio.sleep(0)
    return time.process_time() - start


async def main_async(events: int, log_level: str) -> dict[str, float]:
    configure_logging(OpsSettings(log_level=log_level, log_format="json"), stream=sys.stderr)
    settings = Settings()
    metrics = BridgeMetrics(CollectorRegistry())
    translator = OutboundTranslator(OutboundSettings())
    sink = InstantBatchSink()
    direction = Direction(
        "outbound", TOPIC, JsonCodec(), lambda obj, only: plan_outbound(translator.translate(obj), only), sink
    )
    worker = Worker(direction, settings, metrics=metrics, readiness=Readiness())
    worker._loop = asyncio.get_running_loop()

    async def publish(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("nothing should be routed: every record is sent")

    worker._handler = RecordHandler(
        direction, retry=worker.retry, publish=publish, gate=worker.gate, storm=worker._storm, metrics=metrics
    )
    for partition in range(6):
        worker.parts[(TOPIC, partition)] = PartitionState()
    feed = messages(events)
    await drive(worker, sink, feed[: min(2000, events)])  # warm-up (imports, caches)
    sink.sent = 0
    for partition in range(6):
        worker.parts[(TOPIC, partition)] = PartitionState()
    cpu = await drive(worker, sink, feed)
    assert sink.sent == events, (sink.sent, events)
    return {
        "events": events,
        "cpu_s": cpu,
        "us_per_event": cpu / events * 1e6,
        "events_per_cpu_s": events / cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    result = asyncio.run(main_async(args.events, args.log_level))
    if args.profile:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(
        f"outbound fast path: {result['us_per_event']:.1f} us CPU per event"
        f" = {result['events_per_cpu_s']:,.0f} events per CPU-second ({result['events']:,} events)"
    )


if __name__ == "__main__":
    main()
