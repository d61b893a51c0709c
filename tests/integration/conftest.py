"""End-to-end harness: the broker fixture, both emulators in threads, and the bridge's own workers.

`make_bridge(...)` creates fresh topics (source, retry tiers, DLQ for both directions), writes a
short-timing config (`processor.demo.config.fast_config`) and gives a `Bridge` that can publish,
run the workers in-process (`bridge.running()`), read the retry/DLQ topics and wait for a
condition without blocking the workers' event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from processor.config.settings import Settings
from processor.demo.config import DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY, fast_config, load_config, write_config
from processor.demo.kafka_io import TopicTail, publish
from processor.demo.observe import EmulatorClient
from processor.demo.traffic import SampleRecord
from processor.emulators import cordial, segment
from processor.emulators.serve import RunningServer, start_in_thread
from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.runtime.directions import run_workers
from processor.runtime.retry import RetryPlan, dlq_topic
from processor.runtime.topics import all_topics, create_topics, source_topic

CORDIAL_KEY = DEMO_CORDIAL_KEY
SEGMENT_KEY = DEMO_SEGMENT_KEY


@dataclass
class Emulators:
    cordial: RunningServer
    segment: RunningServer
    cordial_client: EmulatorClient
    segment_client: EmulatorClient


@contextlib.contextmanager
def serve_emulators(on_activity: Callable[[dict[str, object]], None] | None = None) -> Iterator[Emulators]:
    with (
        start_in_thread(cordial.create_app(api_key=CORDIAL_KEY, on_activity=on_activity)) as c,
        start_in_thread(segment.create_app(write_key=SEGMENT_KEY)) as s,
        EmulatorClient(c.url) as cc,
        EmulatorClient(s.url) as sc,
    ):
        yield Emulators(c, s, cc, sc)


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    with serve_emulators() as running:
        yield running


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulators]]:
    """`emulator_factory(on_activity=hook)` → a further pair of emulators (stopped at teardown)."""
    with contextlib.ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(serve_emulators(**kwargs))


@dataclass
class Running:
    metrics: BridgeMetrics
    readiness: Readiness
    task: asyncio.Task[None]

    def sample(self, name: str, **labels: str) -> float:
        """Sum of a metric's samples whose labels include `labels` (0 when none)."""
        total = 0.0
        for metric in self.metrics.registry.collect():
            for s in metric.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total


@dataclass
class Bridge:
    settings: Settings
    config_path: Path
    emulators: Emulators
    _tails: list[TopicTail] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka.bootstrap_servers

    def source(self, direction: str) -> str:
        return source_topic(self.settings, direction)

    def dlq(self, direction: str) -> str:
        return dlq_topic(self.source(direction))

    def retry_topics(self, direction: str) -> list[str]:
        return RetryPlan.from_settings(self.settings.retry).topics(self.source(direction))

    def publish(self, direction: str, records: Sequence[SampleRecord]) -> int:
        return publish(self.bootstrap, self.source(direction), records)

    def tail(self, directions: Sequence[str] = ("inbound", "outbound")) -> TopicTail:
        """A reader of the retry and DLQ topics (closed at teardown)."""
        topics = [t for d in directions for t in (*self.retry_topics(d), self.dlq(d))]
        tail = TopicTail(self.bootstrap, topics)
        self._tails.append(tail)
        return tail

    @contextlib.asynccontextmanager
    async def running(self, directions: Sequence[str] = ("inbound", "outbound")) -> AsyncIterator[Running]:
        """Run the workers in this event loop; stop them gracefully on exit (errors re-raised)."""
        metrics = BridgeMetrics(CollectorRegistry())
        readiness = Readiness()
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_workers(list(directions), self.settings, metrics=metrics, readiness=readiness, stop=stop)
        )
        try:
            yield Running(metrics, readiness, task)
        finally:
            stop.set()
            await asyncio.wait_for(task, self.settings.worker.shutdown_deadline_s + 15)

    def close(self) -> None:
        for tail in self._tails:
            tail.close()


@pytest.fixture
def make_bridge(
    kafka_broker: Any, unique_name: Callable[[str], str], tmp_path: Path, emulators: Emulators
) -> Iterator[Callable[..., Bridge]]:
    """`make_bridge(**fast_config overrides)` → a Bridge on fresh topics and a fresh group."""
    made: list[Bridge] = []

    def make(*, emulators_override: Emulators | None = None, **overrides: Any) -> Bridge:
        used = emulators_override or emulators
        run = unique_name("e2e")
        config = fast_config(
            bootstrap_servers=kafka_broker.bootstrap_servers,
            cordial_endpoint=used.cordial.url,
            segment_endpoint=used.segment.url,
            inbound_topic=f"{run}-segment-inbound",
            outbound_topic=f"{run}-cordial-outbound",
            group_id=f"{run}-group",
            **{"tiers": ("1s",), "partitions": 3, **overrides},
        )
        path = write_config(tmp_path / f"{run}.yaml", config)
        settings = load_config(path)
        create_topics(settings.kafka, all_topics(settings))
        bridge = Bridge(settings, path, used)
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.close()


async def wait_until(
    check: Callable[[], Any], *, timeout_s: float, interval_s: float = 0.3, what: str = "condition"
) -> Any:
    """Poll `check` (run in a thread: it may block on HTTP/Kafka) until it returns a truthy value."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(check)
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; last: {last!r}")


@pytest.fixture
def poll_until() -> Callable[..., Any]:
    """The `wait_until` helper, as a fixture (test modules cannot import conftest)."""
    return wait_until
