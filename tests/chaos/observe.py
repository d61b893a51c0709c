"""What the chaos harness reads back: the API emulator's received log and the retry-tier topics.

`ArrivalLog` turns an emulator's `/_emulator/received` log into `Arrival`s (whose event, which
status); `RetryTally` counts retry-tier records and remembers their keys. Neither joins the
workers' consumer group or commits anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from processor.demo.observe import EmulatorClient

from .accounting import Arrival

INGEST_PREFIX = "/api/segment/"


class ArrivalLog:
    """An emulator's received log, fetched incrementally (entries still unanswered are re-read).

    Inbound, each Cordial ingest call carries one event (`segmentId`, `properties.seq`);
    outbound, each Segment batch carries several (`anonymousId`, `properties.properties_seq`),
    all answered with the batch's status.
    """

    def __init__(self, client: EmulatorClient, run: str, direction: str = "inbound") -> None:
        self._client = client
        self._run = run
        self._direction = direction
        self._entries: dict[int, dict[str, Any]] = {}
        self._since = 0

    def refresh(self) -> None:
        for entry in self._client.received(self._since):
            self._entries[int(entry["seq"])] = entry
        pending = [seq for seq, e in self._entries.items() if e.get("status") is None]
        self._since = (min(pending) - 1) if pending else max(self._entries, default=0)

    def arrivals(self) -> list[Arrival]:
        """Events of this run carried by API requests, in arrival order."""
        out = []
        for seq in sorted(self._entries):
            entry = self._entries[seq]
            status = entry.get("status")
            for ident in self._events(entry):
                out.append(Arrival(ident[0], ident[1], status))
        return out

    def _events(self, entry: Mapping[str, Any]) -> list[tuple[str, int]]:
        body, path = entry.get("body"), str(entry.get("path", ""))
        if not isinstance(body, dict):
            return []
        if self._direction == "inbound":
            if not path.startswith(INGEST_PREFIX):
                return []
            return self._ident(body.get("segmentId"), body.get("properties"), "run", "seq")
        messages = body.get("batch", ()) if path == "/v1/batch" else [body]
        found = []
        for message in messages:
            if isinstance(message, dict):
                props = message.get("properties")
                found += self._ident(message.get("anonymousId"), props, "properties_run", "properties_seq")
        return found

    def _ident(self, key: object, props: object, run_field: str, seq_field: str) -> list[tuple[str, int]]:
        if not isinstance(props, dict) or props.get(run_field) != self._run:
            return []
        number = props.get(seq_field)
        return [(key, number)] if isinstance(key, str) and isinstance(number, int) else []


class RetryTally:
    """Counts the records on the retry-tier topics and remembers their keys; values are not kept
    (a long outage writes tens of thousands of retry records). Assigns partitions, never joins a
    group, never commits."""

    def __init__(self, bootstrap_servers: str, topics: Sequence[str]) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": "cordial-bridge-chaos-observer",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        self.count = 0
        self.keys: set[str] = set()
        assignment = []
        for topic in topics:
            try:
                found = self._consumer.list_topics(topic, timeout=5).topics.get(topic)
            except KafkaException:
                found = None
            for partition in sorted(found.partitions) if found is not None else ():
                assignment.append(TopicPartition(topic, partition, OFFSET_BEGINNING))
        self._consumer.assign(assignment)

    def drain(self, wait_s: float = 0.05) -> None:
        while messages := self._consumer.consume(1000, wait_s):
            for message in messages:
                if message.error() is not None:
                    continue
                self.count += 1
                key = message.key()
                if key is not None:
                    self.keys.add(key.decode(errors="replace"))

    def close(self) -> None:
        self._consumer.close()
