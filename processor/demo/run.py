"""`cordial-bridge demo`: the whole bridge on one machine, start to finish, in well under a minute.

Starts the embedded broker and both API emulators (threads, fixed demo keys, a little injected
503/429 so retries show), writes a short-timing config, creates the topics, publishes the
sample traffic in both directions, runs both directions' workers in this process, and waits
until every record is delivered, retried or dead-lettered — judged against what `translate`
predicts, bounded by a timeout. Then it prints a summary and tears everything down (the broker
subprocess included), unless asked to keep running until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from processor.config.settings import Settings
from processor.demo.broker import EmbeddedBroker
from processor.demo.config import DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY, fast_config, load_config, write_config
from processor.demo.expect import Expected, summarise, translate_values
from processor.demo.kafka_io import TopicTail, publish
from processor.demo.observe import EmulatorClient, accepted_cordial_calls, accepted_segment_messages
from processor.demo.summary import DirectionReport, render_summary
from processor.demo.traffic import Traffic, TrafficDirection, sample_traffic
from processor.emulators import cordial as cordial_emulator
from processor.emulators import segment as segment_emulator
from processor.emulators.faults import FaultConfig
from processor.emulators.serve import RunningServer, start_in_thread
from processor.ops.logging import configure_logging
from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.ops.server import start_ops_server
from processor.runtime.directions import run_workers
from processor.runtime.retry import RetryPlan, dlq_topic
from processor.runtime.topics import all_topics, create_topics, source_topic

DIRECTIONS: tuple[TrafficDirection, TrafficDirection] = ("inbound", "outbound")

# A light, seeded storm: enough failed calls that some records take the retry topics.
DEMO_CORDIAL_FAULTS = FaultConfig(rate_503=0.12, rate_429=0.05, retry_after_s=1.0, seed=5)
DEMO_SEGMENT_FAULTS = FaultConfig(rate_503=0.4, rate_429=0.1, retry_after_s=1.0, seed=9)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    events: int = 40
    """Good records per direction (the deliberate failures come on top)."""
    metrics_port: int = 0
    """0 = any free port."""
    keep_running: bool = False
    timeout_s: float = 120.0
    faults: bool = True


@dataclass
class DemoResult:
    reports: list[DirectionReport]
    finished: bool
    elapsed_s: float
    links: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return render_summary(
            self.reports, elapsed_s=self.elapsed_s, links=self.links, finished=self.finished
        )


class Observer:
    """Reads the emulators and the retry/DLQ topics and turns them into per-direction reports."""

    def __init__(
        self,
        settings: Settings,
        emulators: dict[str, EmulatorClient],
        traffic: Traffic,
        expected: dict[str, Expected],
        metrics: BridgeMetrics,
    ) -> None:
        self._settings = settings
        self._emulators = emulators
        self._traffic = traffic
        self._expected = expected
        self._metrics = metrics
        self._plan = RetryPlan.from_settings(settings.retry)
        watched = []
        for direction in DIRECTIONS:
            source = source_topic(settings, direction)
            watched += [*self._plan.topics(source), dlq_topic(source)]
        self._tail = TopicTail(settings.kafka.bootstrap_servers, watched)

    def close(self) -> None:
        self._tail.close()

    def _blocked(self, direction: str) -> int:
        total = 0.0
        registry = self._metrics.registry
        for name in ("cordial_bridge_records_blocked_total", "cordial_bridge_records_skipped_total"):
            for metric in registry.collect():
                for sample in metric.samples:
                    if sample.name == name and sample.labels.get("direction") == direction:
                        total += sample.value
        return int(total)

    def report(self, direction: TrafficDirection) -> DirectionReport:
        """The direction's counts so far (call `refresh()` first to read new retry/DLQ records)."""
        source = source_topic(self._settings, direction)
        if direction == "inbound":
            delivered = len(accepted_cordial_calls(self._emulators["cordial"].received()))
        else:
            delivered = len(accepted_segment_messages(self._emulators["segment"].received()))
        retried = sum(self._tail.count(topic) for topic in self._plan.topics(source))
        dead_letters = self._tail.records(dlq_topic(source))
        classes: dict[str, int] = {}
        for record in dead_letters:
            name = record.headers.get("cb-error-class", "?")
            classes[name] = classes.get(name, 0) + 1
        return DirectionReport(
            direction=direction,
            published=len(self._traffic.for_direction(direction)),
            delivered=delivered,
            retried=retried,
            dead_lettered=len(dead_letters),
            blocked=self._blocked(direction),
            expected_delivered=self._expected[direction].deliveries,
            dead_letter_classes=classes,
        )

    def reports(self) -> list[DirectionReport]:
        """Read what is new, then report both directions."""
        self._tail.drain(0.05)
        return [self.report(d) for d in DIRECTIONS]

    def done(self, reports: Sequence[DirectionReport]) -> bool:
        """Every predicted delivery arrived and every predicted dead letter is in the DLQ."""
        return all(
            r.delivered >= self._expected[r.direction].deliveries
            and r.dead_lettered >= self._expected[r.direction].dead_letters
            for r in reports
        )


async def _wait_until_done(
    observer: Observer, workers: asyncio.Task[None], deadline: float, interrupted: asyncio.Event
) -> bool:
    stable = 0
    previous: list[DirectionReport] | None = None
    while time.monotonic() < deadline and not interrupted.is_set():
        if workers.done():
            workers.result()  # raises the worker's error
            return False
        reports = await asyncio.to_thread(observer.reports)
        if observer.done(reports):
            # Settle: a late duplicate or a retry still in flight shows up as a change.
            stable = stable + 1 if reports == previous else 0
            if stable >= 2:
                return True
        previous = reports
        await asyncio.sleep(0.5)
    return False


def _install_signals(event: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, event.set)


async def _drive(
    settings: Settings,
    traffic: Traffic,
    observer: Observer,
    metrics: BridgeMetrics,
    readiness: Readiness,
    options: DemoOptions,
    echo: Callable[[str], None],
    links: dict[str, str],
) -> DemoResult:
    interrupted = asyncio.Event()
    _install_signals(interrupted)
    stop = asyncio.Event()
    started = time.monotonic()
    workers = asyncio.create_task(
        run_workers(list(DIRECTIONS), settings, metrics=metrics, readiness=readiness, stop=stop)
    )
    finished = False
    try:
        for direction in DIRECTIONS:
            records = traffic.for_direction(direction)
            count = await asyncio.to_thread(
                publish, settings.kafka.bootstrap_servers, source_topic(settings, direction), records
            )
            echo(f"published {count} {direction} records to {source_topic(settings, direction)}")
        echo("workers running; waiting for every record to be delivered, retried or dead-lettered…")
        finished = await _wait_until_done(observer, workers, started + options.timeout_s, interrupted)
        reports = await asyncio.to_thread(observer.reports)
        result = DemoResult(reports, finished, time.monotonic() - started, links)
        if options.keep_running and not interrupted.is_set():
            echo(result.text)
            echo("still running (workers, broker, emulators, metrics); press Ctrl-C to stop")
            await interrupted.wait()
            echo("stopping; the counts as they stand now:")
            reports = await asyncio.to_thread(observer.reports)
            result = DemoResult(reports, finished, result.elapsed_s, links)
        return result
    finally:
        stop.set()
        try:
            await asyncio.wait_for(workers, settings.worker.shutdown_deadline_s + 10)
        except TimeoutError:
            workers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await workers


def run_demo(options: DemoOptions, echo: Callable[[str], None] = print) -> DemoResult:
    """Run the demo end to end; everything it started is stopped before it returns."""
    traffic = sample_traffic(options.events)
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cordial-bridge-demo-")))
        broker = stack.enter_context(EmbeddedBroker(log_path=str(workdir / "broker.log")))
        # Kafka clients caught in reference cycles keep their connections open, and Tansu waits
        # ~5 s for open connections on SIGTERM: collect them before the broker stops.
        stack.callback(gc.collect)
        cordial = _serve(
            stack,
            cordial_emulator.create_app(
                api_key=DEMO_CORDIAL_KEY, faults=DEMO_CORDIAL_FAULTS if options.faults else None
            ),
        )
        segment = _serve(
            stack,
            segment_emulator.create_app(
                write_key=DEMO_SEGMENT_KEY, faults=DEMO_SEGMENT_FAULTS if options.faults else None
            ),
        )
        config_path = write_config(
            workdir / "demo.yaml",
            fast_config(
                bootstrap_servers=broker.bootstrap_servers,
                cordial_endpoint=cordial.url,
                segment_endpoint=segment.url,
                metrics_port=options.metrics_port,
                # The summary reports the deliberate failures; their log lines would only repeat it.
                log_level="error",
            ),
        )
        settings = load_config(config_path)
        configure_logging(settings.ops, secrets=(DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY))
        echo(f"broker {broker.bootstrap_servers} (embedded Tansu)")
        echo(f"emulators: cordial {cordial.url}, segment {segment.url}")
        create_topics(settings.kafka, all_topics(settings))
        expected: dict[str, Expected] = {
            d: summarise(translate_values(d, (r.value for r in traffic.for_direction(d)), config_path))
            for d in DIRECTIONS
        }
        registry = CollectorRegistry()
        metrics = BridgeMetrics(registry)
        readiness = Readiness()
        ops = start_ops_server(
            host=settings.ops.metrics_host,
            port=settings.ops.metrics_port,
            registry=registry,
            readiness=readiness,
        )
        stack.callback(ops.stop)
        links = {
            "metrics": f"http://{ops.host}:{ops.port}/metrics",
            "cordial received": f"{cordial.url}/_emulator/received",
            "segment received": f"{segment.url}/_emulator/received",
        }
        emulators = {"cordial": EmulatorClient(cordial.url), "segment": EmulatorClient(segment.url)}
        for client in emulators.values():
            stack.callback(client.close)
        observer = Observer(settings, emulators, traffic, expected, metrics)
        stack.callback(observer.close)
        return asyncio.run(_drive(settings, traffic, observer, metrics, readiness, options, echo, links))
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow


def _serve(stack: contextlib.ExitStack, app: Any) -> RunningServer:
    server = start_in_thread(app)
    stack.callback(server.stop)
    return server
