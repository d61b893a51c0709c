"""Delivery end to end: what arrives is exactly what `translate` predicts, in per-key order, and a
burst of 503/429 is absorbed by in-process retries and the retry topics without losing anything."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from processor.demo.expect import expected_bodies, translate_values
from processor.demo.observe import accepted_cordial_calls, accepted_segment_messages, status_counts
from processor.demo.traffic import (
    SampleRecord,
    cordial_records,
    numbered_cordial_records,
    numbered_segment_messages,
    segment_messages,
)

pytestmark = pytest.mark.kafka


def _bytes(obj: object) -> bytes:
    return orjson.dumps(obj)  # keeps key order: the wire order is part of the contract


def _inbound_key(body: dict[str, Any]) -> str:
    return str(body.get("segmentId") or body.get("anonymousId"))


def _in_record_order(
    arrived: Sequence[tuple[str, bytes]], expected: Sequence[Sequence[bytes]], keys: Sequence[str]
) -> list[str]:
    """Keys whose deliveries arrived out of record order (record i's items may interleave only
    among themselves). Each arrival is matched to the earliest unmatched record of its key."""
    pending: dict[str, list[tuple[int, Counter[bytes]]]] = {}
    for index, (key, items) in enumerate(zip(keys, expected, strict=True)):
        if items:
            pending.setdefault(key, []).append((index, Counter(items)))
    last: dict[str, int] = {}
    bad: list[str] = []
    for key, item in arrived:
        for index, remaining in pending.get(key, []):
            if remaining[item] > 0:
                remaining[item] -= 1
                if index < last.get(key, -1) and key not in bad:
                    bad.append(key)
                last[key] = max(last.get(key, -1), index)
                break
    return bad


async def test_mixed_stream_arrives_as_translate_says_in_key_order(
    make_bridge, emulators, poll_until
) -> None:
    bridge = make_bridge()
    inbound: list[SampleRecord] = [*segment_messages(27)]
    inbound += [e.record for e in numbered_segment_messages("mix", keys=3, per_key=6)]
    outbound: list[SampleRecord] = [*cordial_records(16)]
    outbound += [e.record for e in numbered_cordial_records("mix", keys=3, per_key=6)]
    want_in = expected_bodies(translate_values("inbound", [r.value for r in inbound], bridge.config_path))
    want_out = expected_bodies(translate_values("outbound", [r.value for r in outbound], bridge.config_path))
    total_in = sum(map(len, want_in))
    total_out = sum(map(len, want_out))
    bridge.publish("inbound", inbound)
    bridge.publish("outbound", outbound)

    def arrived() -> tuple[list[Any], list[Any]] | None:
        calls = accepted_cordial_calls(emulators.cordial_client.received())
        messages = accepted_segment_messages(emulators.segment_client.received())
        return (calls, messages) if len(calls) >= total_in and len(messages) >= total_out else None

    async with bridge.running():
        await poll_until(arrived, timeout_s=60, what="every predicted delivery")
        await asyncio.sleep(1.0)  # a late duplicate would show up now
    calls = accepted_cordial_calls(emulators.cordial_client.received())
    messages = accepted_segment_messages(emulators.segment_client.received())

    # Exactly what `translate` says: same bodies, byte for byte, same multiplicity, nothing else.
    got_in = Counter(_bytes({"action": c.action, "body": c.body}) for c in calls)
    assert got_in == Counter(_bytes(item) for items in want_in for item in items)
    assert Counter(_bytes(m) for m in messages) == Counter(_bytes(m) for items in want_out for m in items)

    # Per-key order, record by record.
    in_keys = [r.key.decode() if r.key else "" for r in inbound]
    arrived_in = [(_inbound_key(c.body), _bytes({"action": c.action, "body": c.body})) for c in calls]
    assert _in_record_order(arrived_in, [[_bytes(i) for i in items] for items in want_in], in_keys) == []
    out_keys = [r.key.decode() if r.key else "" for r in outbound]
    arrived_out = [(str(m["anonymousId"]), _bytes(m)) for m in messages]
    assert _in_record_order(arrived_out, [[_bytes(i) for i in items] for items in want_out], out_keys) == []
    numbered = [c.body["properties"] for c in calls if c.body.get("action") == "Demo Step"]
    for key in ("mix-u0", "mix-u1", "mix-u2"):
        seqs = [c.body["properties"]["seq"] for c in calls if _inbound_key(c.body) == key]
        assert seqs == list(range(6)), key
    assert len(numbered) == 18

    tail = bridge.tail()
    tail.drain(0.5)
    assert {t: tail.count(t) for t in tail.topics} == dict.fromkeys(tail.topics, 0), "no retries, no DLQ"


def _numbered_arrivals(
    calls: Any, messages: Any, run: str
) -> tuple[Counter[tuple[str, int]], Counter[tuple[str, int]]]:
    inbound = Counter(
        (_inbound_key(c.body), c.body["properties"]["seq"])
        for c in calls
        if c.body.get("properties", {}).get("run") == run
    )
    outbound = Counter(
        (str(m["anonymousId"]), m["properties"]["properties_seq"])
        for m in messages
        if m.get("properties", {}).get("properties_run") == run
    )
    return inbound, outbound


async def test_burst_of_503_and_429_goes_through_retries_and_retry_topics(
    make_bridge, emulators, poll_until
) -> None:
    bridge = make_bridge(in_process_attempts=2, tiers=("1s",), max_attempts=8)
    run = "burst"
    inbound = numbered_segment_messages(run, keys=3, per_key=5)
    outbound = numbered_cordial_records(run, keys=3, per_key=5)
    want_in = Counter((e.key, e.seq) for e in inbound)
    want_out = Counter((e.key, e.seq) for e in outbound)
    storm = {"rate_503": 0.7, "rate_429": 0.3, "retry_after_s": 1.0, "seed": 3}
    emulators.cordial_client.set_faults(**storm)
    emulators.segment_client.set_faults(**storm)
    bridge.publish("inbound", [e.record for e in inbound])
    bridge.publish("outbound", [e.record for e in outbound])
    tail = bridge.tail()

    def retried_both_ways() -> bool:
        tail.drain(0.1)
        return all(sum(tail.count(t) for t in bridge.retry_topics(d)) > 0 for d in ("inbound", "outbound"))

    def everything_arrived() -> bool:
        got_in, got_out = _numbered_arrivals(
            accepted_cordial_calls(emulators.cordial_client.received()),
            accepted_segment_messages(emulators.segment_client.received()),
            run,
        )
        return set(got_in) == set(want_in) and set(got_out) == set(want_out)

    async with bridge.running() as running:
        await poll_until(retried_both_ways, timeout_s=60, what="records in the retry topics")
        emulators.cordial_client.set_faults(rate_503=0, rate_429=0)
        emulators.segment_client.set_faults(rate_503=0, rate_429=0)
        await poll_until(everything_arrived, timeout_s=60, what="every event after the burst")
        assert running.sample("cordial_bridge_records_retried_total") > 0
    tail.drain(0.3)
    retry_records = [
        r for d in ("inbound", "outbound") for t in bridge.retry_topics(d) for r in tail.records(t)
    ]
    # Both kinds of failure were really answered, and records were tried again in-process before
    # going to a retry topic: more failed calls than retry records. (Not two per record: a 429
    # whose Retry-After exceeds backoff_max_s goes to the retry topic at once, by design.)
    for client, direction in ((emulators.cordial_client, "inbound"), (emulators.segment_client, "outbound")):
        statuses = status_counts(client.received())
        assert statuses.get(503, 0) > 0
        assert statuses.get(429, 0) > 0
        if direction == "inbound":  # outbound batches several records into one call
            retried = sum(tail.count(t) for t in bridge.retry_topics(direction))
            assert statuses[503] + statuses[429] > retried
    for record in retry_records:
        assert record.headers["cb-error-class"] in ("http_5xx", "http_429")
        assert int(record.headers["cb-attempt"]) >= 1
        assert int(record.headers["cb-due-at"]) > int(record.headers["cb-first-failure-at"])
        assert record.headers["cb-original-topic"] in (bridge.source("inbound"), bridge.source("outbound"))
    assert tail.count(bridge.dlq("inbound")) == 0
    assert tail.count(bridge.dlq("outbound")) == 0
    got_in, got_out = _numbered_arrivals(
        accepted_cordial_calls(emulators.cordial_client.received()),
        accepted_segment_messages(emulators.segment_client.received()),
        run,
    )
    duplicates = sum(got_in.values()) - len(got_in) + sum(got_out.values()) - len(got_out)
    print(f"burst: {len(retry_records)} retry-topic records, {duplicates} duplicate deliveries")
