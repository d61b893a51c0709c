"""Tally: per-record counts reach the Prometheus counters, in bulk, only when flushed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from processor.ops.tally import Tally


def test_counts_reach_each_counter_on_flush_and_only_then() -> None:
    registry = CollectorRegistry()
    counter = Counter("things", "things", ["kind"], registry=registry)
    a, b = counter.labels("a"), counter.labels("b")
    tally = Tally()
    for _ in range(3):
        tally.add(a)
    tally.add(b, 5)
    assert registry.get_sample_value("things_total", {"kind": "a"}) == 0.0
    tally.flush()
    assert registry.get_sample_value("things_total", {"kind": "a"}) == 3.0
    assert registry.get_sample_value("things_total", {"kind": "b"}) == 5.0
    tally.flush()  # nothing pending: nothing added twice
    assert registry.get_sample_value("things_total", {"kind": "a"}) == 3.0
