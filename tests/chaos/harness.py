"""One chaos scenario's world: an API emulator, fresh topics, a config, workers, the ledger.

`ChaosRun` puts uniquely numbered events (and any poison) on a fresh source topic of one
direction, runs real worker processes against that direction's emulator (Cordial inbound,
Segment outbound), and watches two places until every produced event is accounted for: the
emulator's received log (what the API accepted) and the DLQ topic (what was dead-lettered).
Retry-tier topics are read too, to know which keys were retried. Reads never join the
workers' group (`TopicTail` assigns partitions directly).
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from confluent_kafka import Producer

from processor.config.loader import load_settings
from processor.demo.config import fast_config, key_environment, write_config
from processor.demo.kafka_io import ReadRecord, TopicTail
from processor.demo.observe import EmulatorClient
from processor.demo.traffic import numbered_cordial_records, numbered_segment_messages
from processor.emulators import cordial as cordial_emulator
from processor.emulators import segment as segment_emulator
from processor.emulators.faults import FaultConfig
from processor.emulators.serve import RunningServer, start_in_thread
from processor.runtime import headers as h
from processor.runtime.retry import RetryPlan, dlq_topic
from processor.runtime.topics import create_topics, direction_topics

from .accounting import Ledger, ProducedEvent, Row, account
from .observe import ArrivalLog, RetryTally
from .workers import WorkerPool

CORDIAL_KEY = "chaos-cordial-key"
SEGMENT_KEY = "chaos-segment-key"
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""What the scenario's producer may send, so a > 1 MiB poison value reaches the topic at all. The
workers keep librdkafka's default (1,000,000): they must dead-letter such a value even when their
own producer cannot carry it (the DLQ record then has no value and `cb-value-omitted`)."""


@dataclass(frozen=True, slots=True)
class Scale:
    """Small (make test) or full (make chaos) sizes; `pick(small, full)` chooses."""

    full: bool

    @property
    def mode(self) -> str:
        return "full" if self.full else "small"

    def pick(self, small: float, full: float) -> float:
        return full if self.full else small

    def count(self, small: int, full: int) -> int:
        return full if self.full else small


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `overrides` into a copy of `base` (nested mappings merged, the rest replaced)."""
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def numbered_events(
    run: str, keys: int, per_key: int, pad_bytes: int = 0, direction: str = "inbound"
) -> list[ProducedEvent]:
    """Good events: `keys` keys times `per_key` numbered events, each exactly one API delivery.

    Inbound: Segment track events (one Cordial call each); outbound: Cordial event records (one
    Segment message each). `pad_bytes` adds a `properties.pad` string of that size (to make a
    backlog weigh something).
    """
    out = []
    make = numbered_segment_messages if direction == "inbound" else numbered_cordial_records
    for e in make(run, keys, per_key):
        value = e.record.value
        if pad_bytes:
            message = orjson.loads(value)
            message["properties"]["pad"] = "p" * pad_bytes
            value = orjson.dumps(message)
        out.append(ProducedEvent(e.key, e.seq, value))
    return out


class ChaosRun:
    """One scenario: emulator + topics + config + workers; `finish()` returns the accounting row."""

    def __init__(
        self,
        scenario: str,
        *,
        mode: str,
        bootstrap_servers: str,
        workdir: Path,
        config: Mapping[str, Any] | None = None,
        faults: FaultConfig | None = None,
        partitions: int = 3,
        direction: str = "inbound",
    ) -> None:
        self.scenario = scenario
        self.direction = direction
        self.mode = mode
        self.run_id = f"{scenario}-{uuid.uuid4().hex[:6]}"
        self.bootstrap_servers = bootstrap_servers
        self.workdir = workdir
        self.started = time.monotonic()
        self._stack = contextlib.ExitStack()
        if direction == "inbound":
            app = cordial_emulator.create_app(api_key=CORDIAL_KEY, faults=faults, max_recorded=2_000_000)
        else:
            app = segment_emulator.create_app(write_key=SEGMENT_KEY, faults=faults, max_recorded=2_000_000)
        self.server: RunningServer = start_in_thread(app)
        self._stack.callback(self.server.stop)
        self.api = EmulatorClient(self.server.url)
        """The emulator of the API this direction delivers to (Cordial inbound, Segment outbound)."""
        self._stack.callback(self.api.close)
        self.topic = f"chaos-{self.run_id}"
        base = fast_config(
            bootstrap_servers=bootstrap_servers,
            cordial_endpoint=self.server.url,
            segment_endpoint=self.server.url,
            inbound_topic=self.topic if direction == "inbound" else f"{self.topic}-in",
            outbound_topic=self.topic if direction == "outbound" else f"{self.topic}-out",
            group_id=f"chaos-{self.run_id}",
            partitions=partitions,
            tiers=("1s", "3s"),
            max_attempts=8,
        )
        self.config = merge(base, config or {})
        self.config_path = write_config(workdir / "chaos.yaml", self.config)
        env = key_environment(CORDIAL_KEY, SEGMENT_KEY)
        self.settings = load_settings(self.config_path, environ=env)
        create_topics(self.settings.kafka, direction_topics(self.settings, direction))
        plan = RetryPlan.from_settings(self.settings.retry)
        self.retry_topics = plan.topics(self.topic)
        self.dlq = dlq_topic(self.topic)
        self.tail = TopicTail(bootstrap_servers, [self.dlq])
        self._stack.callback(self.tail.close)
        self.retries = RetryTally(bootstrap_servers, self.retry_topics)
        self._stack.callback(self.retries.close)
        self.pool = WorkerPool(self.config_path, workdir, env, direction)
        self._stack.callback(self.pool.stop_all)
        self.log = ArrivalLog(self.api, self.run_id, direction)
        self.produced: list[ProducedEvent] = []
        self._positions: dict[tuple[int, int], ProducedEvent] = {}
        self._by_value: dict[bytes, ProducedEvent] = {}
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap_servers,
                "enable.idempotence": True,
                "linger.ms": 5,
                "message.max.bytes": MAX_MESSAGE_BYTES,
            }
        )

    # ------------------------------------------------------------------ context

    def __enter__(self) -> ChaosRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._producer.flush(10)
        self._stack.close()

    # ------------------------------------------------------------------ input

    def events(self, keys: int, per_key: int, *, pad_bytes: int = 0) -> list[ProducedEvent]:
        return numbered_events(self.run_id, keys, per_key, pad_bytes, self.direction)

    def produce(self, events: Iterable[ProducedEvent], *, per_second: float | None = None) -> int:
        """Produce in order (per key order = produce order); optionally paced. Blocks until acked."""
        failures: list[str] = []
        count = 0
        started = time.monotonic()
        for event in events:
            if per_second:
                ahead = count / per_second - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            self._send(event, failures)
            count += 1
        left = self._producer.flush(60)
        if left or failures:
            raise AssertionError(f"producing failed: {left} unacknowledged, errors {failures[:3]}")
        return count

    def _send(self, event: ProducedEvent, failures: list[str]) -> None:
        def on_delivery(err: object, msg: Any) -> None:
            if err is not None:
                failures.append(str(err))
            else:
                self._positions[(msg.partition(), msg.offset())] = event

        while True:
            try:
                self._producer.produce(
                    self.topic, key=event.key.encode(), value=event.value, on_delivery=on_delivery
                )
                break
            except BufferError:
                self._producer.poll(0.1)
        self._producer.poll(0)
        self.produced.append(event)
        self._by_value[event.value] = event

    # ------------------------------------------------------------------ observation

    def _identify(self, record: ReadRecord) -> tuple[str, int] | None:
        headers = record.headers
        event: ProducedEvent | None = None
        if headers.get(h.ORIGINAL_TOPIC) == self.topic:
            with contextlib.suppress(KeyError, ValueError):
                position = (int(headers[h.ORIGINAL_PARTITION]), int(headers[h.ORIGINAL_OFFSET]))
                event = self._positions.get(position)
        if event is None and record.value is not None:
            event = self._by_value.get(record.value)
        return None if event is None else (event.key, event.seq)

    def refresh(self) -> None:
        self.log.refresh()
        self.tail.drain(0.05)
        self.retries.drain(0.05)

    def dead_lettered(self) -> list[tuple[str, int] | None]:
        return [self._identify(r) for r in self.tail.records(self.dlq)]

    def accepted(self) -> int:
        """Events the API accepted so far (duplicates included)."""
        return sum(1 for a in self.log.arrivals() if a.status and 200 <= a.status < 300)

    def wait_for_progress(self, more: int = 5, timeout_s: float = 60.0) -> bool:
        """Block until the API accepted `more` further events: a worker is busy right now."""
        self.refresh()
        target = self.accepted() + more
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            time.sleep(0.1)
            self.refresh()
            if self.accepted() >= target:
                return True
        return False

    def outstanding(self) -> int:
        """Produced events neither accepted by the API nor found in the DLQ yet."""
        accepted = {(a.key, a.seq) for a in self.log.arrivals() if a.status and 200 <= a.status < 300}
        done = accepted | {i for i in self.dead_lettered() if i is not None}
        return sum((e.key, e.seq) not in done for e in self.produced)

    def wait_until_quiet(
        self, timeout_s: float, *, settle_s: float = 2.0, during: Callable[[], None] | None = None
    ) -> bool:
        """Poll until every produced event is accounted for, then `settle_s` more for late
        duplicates; False at the timeout. `during` runs on each poll (restart dead workers, …)."""
        deadline = time.monotonic() + timeout_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            self.refresh()
            if during is not None:
                during()
            if self.outstanding() == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle_s:
                    return True
            else:
                quiet_since = None
            time.sleep(0.25)
        return False

    # ------------------------------------------------------------------ verdict

    def finish(self, *, settled: bool, notes: str = "") -> Row:
        """Stop the workers gracefully, read everything once more, and account."""
        self.pool.stop_all()
        if self.pool.forced_stops:
            notes = f"{notes}; {self.pool.forced_stops} worker(s) ignored SIGTERM and were killed".lstrip(
                "; "
            )
        self.refresh()
        ledger = Ledger(
            produced=list(self.produced),
            arrivals=self.log.arrivals(),
            dlq=self.dead_lettered(),
            retried_keys=set(self.retries.keys),
            retry_records=self.retries.count,
        )
        return account(
            ledger,
            scenario=self.scenario,
            mode=self.mode,
            peak_rss_mib=self.pool.peak_rss_mib,
            elapsed_s=time.monotonic() - self.started,
            settled=settled,
            notes=notes,
        )

    def explain(self, row: Row) -> str:
        """What a failing assertion prints: the row and the end of each worker's log."""
        return f"{row}\n{self.pool.log_tail()}"


def spread(events: Sequence[ProducedEvent], chunks: int) -> list[list[ProducedEvent]]:
    """Split the stream into `chunks` consecutive slices (produce order kept)."""
    size = max(1, -(-len(events) // chunks))
    return [list(events[i : i + size]) for i in range(0, len(events), size)]


class BackgroundProducer:
    """Produces a stream at a steady rate from a thread, so faults strike while load arrives."""

    def __init__(self, run: ChaosRun, events: Sequence[ProducedEvent], per_second: float) -> None:
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._produce, args=(run, events, per_second), name="chaos-producer", daemon=True
        )
        self._thread.start()

    def _produce(self, run: ChaosRun, events: Sequence[ProducedEvent], per_second: float) -> None:
        try:
            run.produce(events, per_second=per_second)
        except BaseException as exc:  # re-raised by join()
            self.errors.append(exc)

    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout_s: float = 120.0) -> None:
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise AssertionError("the producer did not finish")
        if self.errors:
            raise self.errors[0]
