"""Metrics end to end: what /metrics says after a run matches what happened — records delivered
(at the emulators), retried (on the retry topics), dead-lettered (on the DLQ) and blocked — and
/readyz turns ready once the workers own partitions."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from processor.demo.observe import accepted_cordial_calls, accepted_segment_messages
from processor.demo.traffic import (
    cordial_failures,
    numbered_cordial_records,
    numbered_segment_messages,
    segment_failures,
)
from processor.ops.server import start_ops_server
from processor.runtime.dlq_scan import scan, scan_consumer

pytestmark = pytest.mark.kafka

OUTCOME = {
    "deliver": "sent",
    "dead_letter": "dead_lettered",
    "partial": "dead_lettered",
    "blocked": "blocked",
}


def _scrape(port: int) -> Counter[tuple[str, str]]:
    """(direction, outcome) → value of cordial_bridge_records_outcome_total, plus other totals."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "cordial_bridge_records_outcome_total":
                values[(labels["direction"], labels["outcome"])] += int(sample.value)
            elif sample.name == "cordial_bridge_records_consumed_total":
                values[(labels["direction"], "consumed_" + labels["topic_kind"])] += int(sample.value)
            elif sample.name == "cordial_bridge_records_retried_total":
                values[(labels["direction"], "retried_units")] += int(sample.value)
            elif sample.name == "cordial_bridge_records_dead_lettered_total":
                values[(labels["direction"], "dead_lettered_units")] += int(sample.value)
    return values


def _readyz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def _count(bridge, topics) -> int:
    consumer = scan_consumer(bridge.settings.kafka, "metrics-e2e-reader")
    try:
        return sum(1 for topic in topics for _ in scan(consumer, topic))
    finally:
        consumer.close()


async def test_scraped_metrics_match_what_happened(make_bridge, emulators, poll_until) -> None:
    bridge = make_bridge(tiers=("1s",))
    inbound = [e.record for e in numbered_segment_messages("met", keys=3, per_key=4)] + list(
        segment_failures()
    )
    outbound = [e.record for e in numbered_cordial_records("met", keys=2, per_key=4)] + list(
        cordial_failures()
    )
    numbered_in, numbered_out = 12, 8
    # Inbound runs against a failing Cordial first: every numbered record and the activity of the
    # partially valid one are retried, then sent once Cordial recovers — so that record ends as
    # `dead_lettered` (its invalid action) on the first pass and `sent` on the retry pass.
    expected = Counter(
        {
            ("inbound", "sent"): numbered_in + 1,
            ("inbound", "dead_lettered"): 3,
            ("inbound", "blocked"): 1,
            ("outbound", "sent"): numbered_out,
            ("outbound", "dead_lettered"): 3,
            ("outbound", "blocked"): 1,
        }
    )
    assert Counter(r.expect for r in inbound) == {
        "deliver": numbered_in,
        "dead_letter": 2,
        "partial": 1,
        "blocked": 1,
    }
    assert Counter(r.expect for r in outbound) == {"deliver": numbered_out, "dead_letter": 3, "blocked": 1}

    emulators.cordial_client.set_faults(rate_503=1.0)  # everything inbound is retried at first
    async with bridge.running() as run:
        server = start_ops_server(
            host="127.0.0.1", port=0, registry=run.metrics.registry, readiness=run.readiness
        )
        try:
            await poll_until(lambda: _readyz(server.port) == 200, timeout_s=60, what="/readyz 200")
            bridge.publish("inbound", inbound)
            bridge.publish("outbound", outbound)

            def first_pass_done() -> bool:
                seen = _scrape(server.port)
                finished = sum(seen[("inbound", o)] for o in ("retried", "dead_lettered", "blocked", "sent"))
                return finished >= len(inbound)

            await poll_until(first_pass_done, timeout_s=60, what="every inbound record's first pass")
            emulators.cordial_client.set_faults(rate_503=0.0)

            def settled():
                seen = _scrape(server.port)
                return seen if all(seen[k] >= v for k, v in expected.items()) else None

            await poll_until(settled, timeout_s=90, what="every expected outcome")
            seen = _scrape(server.port)
        finally:
            server.stop()

    for key, count in expected.items():
        assert seen[key] == count, key
    # Delivered: what the emulators accepted (one call per numbered record plus the partially valid
    # record's activity; one Segment message per numbered record).
    calls = accepted_cordial_calls(emulators.cordial_client.received())
    messages = accepted_segment_messages(emulators.segment_client.received())
    assert len(calls) == numbered_in + 1
    assert len(messages) == expected[("outbound", "sent")]
    # Retried: one retry record per retried action, each consumed back once.
    retry_records = _count(bridge, bridge.retry_topics("inbound"))
    assert retry_records >= numbered_in + 1
    assert seen[("inbound", "retried_units")] == retry_records
    assert seen[("inbound", "retried")] >= numbered_in
    assert seen[("inbound", "consumed_retry")] == retry_records
    assert seen[("inbound", "consumed_source")] == len(inbound)
    assert seen[("outbound", "retried")] == seen[("outbound", "retried_units")] == 0
    # Dead-lettered: one DLQ record per dead-lettered unit.
    for direction in ("inbound", "outbound"):
        assert seen[(direction, "dead_lettered_units")] == _count(bridge, [bridge.dlq(direction)])
