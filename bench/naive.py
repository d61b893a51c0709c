"""The naive baseline: what a hand-written consumer does. One message at a time, start to finish.

Poll ONE message → translate it with the same translator → one blocking HTTP call per request
(inbound: each Cordial action in turn; outbound: one `/v1/track` call per event) → synchronous
commit of that message. Same topic, same data, its own consumer group. Time-boxed: it stops after
`max_events` events or `max_seconds`, and reports events/s from the first message polled to the
last commit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import orjson
from confluent_kafka import Consumer

from bench.procs import CORDIAL_KEY, SEGMENT_KEY
from processor.config.settings import InboundSettings, OutboundSettings
from processor.inbound.requests import InboundTranslation
from processor.inbound.translate import InboundTranslator
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator


@dataclass
class Naive:
    direction: str
    events: int = 0
    http_calls: int = 0
    failed_calls: int = 0
    seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "direction": self.direction,
            "events": self.events,
            "http_calls": self.http_calls,
            "failed_calls": self.failed_calls,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_per_s, 1),
        }


def run_naive(
    *,
    direction: str,
    bootstrap: str,
    topic: str,
    base_url: str,
    group: str,
    max_events: int,
    max_seconds: float,
) -> Naive:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "max.poll.interval.ms": 10000,
        }
    )
    if direction == "inbound":
        headers = {"x-api-key": CORDIAL_KEY, "Accept": "application/json", "Content-Type": "application/json"}
        client = httpx.Client(base_url=base_url, headers=headers, timeout=10.0)
    else:
        headers = {"Content-Type": "application/json"}
        client = httpx.Client(base_url=base_url, headers=headers, auth=(SEGMENT_KEY, ""), timeout=10.0)
    inbound = InboundTranslator(InboundSettings())
    outbound = OutboundTranslator(OutboundSettings())
    result = Naive(direction)
    consumer.subscribe([topic])
    join_deadline = time.monotonic() + 30 + max_seconds
    first = 0.0
    try:
        while result.events < max_events and time.monotonic() < join_deadline:
            if first and time.monotonic() - first > max_seconds:
                break
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            first = first or time.monotonic()
            value = orjson.loads(message.value() or b"null")
            if direction == "inbound":
                translation = inbound.translate(value)
                if isinstance(translation, InboundTranslation):
                    for request in translation.requests:
                        response = client.post(request.path, content=orjson.dumps(dict(request.body)))
                        result.http_calls += 1
                        result.failed_calls += response.status_code >= 300
            else:
                translated = outbound.translate(value)
                if isinstance(translated, OutboundTranslation):
                    response = client.post("/v1/track", content=orjson.dumps(translated.message))
                    result.http_calls += 1
                    result.failed_calls += response.status_code >= 300
            consumer.commit(message=message, asynchronous=False)
            result.events += 1
        result.seconds = time.monotonic() - first if first else 0.0
    finally:
        consumer.close()
        client.close()
    return result
